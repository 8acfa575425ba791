package codec

// The OBU types (AV1 §6.2.2) the server looks at.
const (
	av1SequenceHeader = 1
	av1FrameHeader    = 3
	av1Frame          = 6
)

// av1KeyframeStart reports whether an AV1 RTP payload (the AV1 RTP
// specification, §4.4) starts a keyframe: its aggregation header's N bit
// says a new coded video sequence begins, or its first OBU element, not a
// continuation, is a sequence header, which encoders send with each
// keyframe.
func av1KeyframeStart(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	agg := b[0]
	if agg&0x08 != 0 { // N
		return true
	}
	if agg&0x80 != 0 { // Z: the first element continues an OBU
		return false
	}
	i := 1
	if w := agg >> 4 & 0x03; w != 1 { // the first element has a length field
		_, n := leb128(b[i:])
		if n == 0 {
			return false
		}
		i += n
	}
	return i < len(b) && b[i]>>3&0x0f == av1SequenceHeader
}

// leb128 reads an unsigned LEB128 number (AV1 §4.10.5) of at most 8 bytes;
// n is 0 when b does not hold one.
func leb128(b []byte) (v uint64, n int) {
	for i := 0; i < 8 && i < len(b); i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// AV1OBU is one OBU of a temporal unit: its type, its payload, and the whole
// OBU (header, size field and payload) as it stands in the unit.
type AV1OBU struct {
	Type    int
	Payload []byte
	Whole   []byte
}

// AV1OBUs splits a temporal unit in the low overhead bitstream format
// (AV1 §5.2: every OBU with its size field, as pion's depacketizer writes
// it and Matroska and IVF carry it) into its OBUs; an OBU without a size
// field runs to the end. It stops at the first malformed OBU, returning
// those before it and false. The OBUs share tu's memory.
func AV1OBUs(tu []byte) ([]AV1OBU, bool) {
	var out []AV1OBU
	for i := 0; i < len(tu); {
		h := tu[i]
		if h&0x80 != 0 { // forbidden bit
			return out, false
		}
		start := i
		i++
		if h&0x04 != 0 { // extension header
			i++
		}
		end := len(tu)
		if h&0x02 != 0 { // obu_has_size_field
			if i > len(tu) {
				return out, false
			}
			size, n := leb128(tu[i:])
			if n == 0 || size > uint64(len(tu)-i-n) {
				return out, false
			}
			i += n
			end = i + int(size)
		}
		if i > end {
			return out, false
		}
		out = append(out, AV1OBU{Type: int(h >> 3 & 0x0f), Payload: tu[i:end], Whole: tu[start:end]})
		i = end
	}
	return out, true
}

// AV1Keyframe reports whether a temporal unit starts a coded video
// sequence a decoder can begin at: it holds a sequence header, and its
// first frame is a key frame shown as it is decoded (not a frame shown
// again).
func AV1Keyframe(tu []byte) bool {
	obus, _ := AV1OBUs(tu)
	var seq *av1Sequence
	for _, o := range obus {
		switch o.Type {
		case av1SequenceHeader:
			if s, ok := parseAV1Sequence(o.Payload); ok {
				seq = &s
			}
		case av1Frame, av1FrameHeader:
			if seq == nil || len(o.Payload) == 0 {
				return false
			}
			if seq.reducedStill {
				return true
			}
			// show_existing_frame (1 bit), then frame_type (2 bits): 0 is KEY_FRAME.
			return o.Payload[0]&0x80 == 0 && o.Payload[0]>>5&0x03 == 0
		}
	}
	return false
}

// AV1Config returns the AV1CodecConfigurationRecord (av1C, AV1 in ISOBMFF
// §2.3; Matroska's CodecPrivate for V_AV1) made from the first sequence
// header of a temporal unit, with that OBU as its configOBUs, and the
// largest picture size it allows; nil when the unit has no sequence header
// the parser reads.
func AV1Config(tu []byte) (record []byte, width, height int) {
	obus, _ := AV1OBUs(tu)
	for _, o := range obus {
		if o.Type != av1SequenceHeader {
			continue
		}
		s, ok := parseAV1Sequence(o.Payload)
		if !ok {
			return nil, 0, 0
		}
		b2 := s.tier<<7 | s.highBitdepth<<6 | s.twelveBit<<5 | s.mono<<4 | s.subX<<3 | s.subY<<2 | s.chromaPosition
		record = append([]byte{0x81, byte(s.profile<<5 | s.level), byte(b2), 0}, o.Whole...)
		if o.Whole[0]&0x02 == 0 {
			// configOBUs are in the low overhead format: give the OBU
			// its size field.
			record = append(record[:4], withSizeField(o)...)
		}
		return record, s.width, s.height
	}
	return nil, 0, 0
}

// withSizeField returns an OBU that has no size field with one.
func withSizeField(o AV1OBU) []byte {
	head := len(o.Whole) - len(o.Payload)
	out := append([]byte(nil), o.Whole[:head]...)
	out[0] |= 0x02
	for n := uint64(len(o.Payload)); ; {
		c := byte(n & 0x7f)
		if n >>= 7; n != 0 {
			out = append(out, c|0x80)
			continue
		}
		out = append(out, c)
		break
	}
	return append(out, o.Payload...)
}

// av1Sequence is what the server reads of a sequence header.
type av1Sequence struct {
	profile, level, tier          uint
	highBitdepth, twelveBit, mono uint
	subX, subY, chromaPosition    uint
	reducedStill                  bool
	width, height                 int
}

// parseAV1Sequence reads a sequence header OBU's payload (AV1 §5.5).
func parseAV1Sequence(b []byte) (s av1Sequence, ok bool) {
	r := &bitReader{b: b}
	s.profile = r.bits(3)
	r.bits(1) // still_picture
	s.reducedStill = r.bits(1) == 1
	if s.reducedStill {
		s.level = r.bits(5)
	} else {
		decoderModel := false
		var delayLength int
		if r.bits(1) == 1 { // timing_info_present_flag
			r.bits(32)          // num_units_in_display_tick
			r.bits(32)          // time_scale
			if r.bits(1) == 1 { // equal_picture_interval
				r.uvlc() // num_ticks_per_picture_minus_1
			}
			if decoderModel = r.bits(1) == 1; decoderModel {
				delayLength = int(r.bits(5)) + 1 // buffer_delay_length_minus_1
				r.bits(32)                       // num_units_in_decoding_tick
				r.bits(5)                        // buffer_removal_time_length_minus_1
				r.bits(5)                        // frame_presentation_time_length_minus_1
			}
		}
		initialDelay := r.bits(1) == 1
		points := int(r.bits(5)) + 1
		for i := 0; i < points && !r.failed; i++ {
			r.bits(12) // operating_point_idc
			level := r.bits(5)
			var tier uint
			if level > 7 {
				tier = r.bits(1)
			}
			if i == 0 {
				s.level, s.tier = level, tier
			}
			if decoderModel && r.bits(1) == 1 { // decoder_model_present_for_this_op
				r.bits(delayLength) // decoder_buffer_delay
				r.bits(delayLength) // encoder_buffer_delay
				r.bits(1)           // low_delay_mode_flag
			}
			if initialDelay && r.bits(1) == 1 {
				r.bits(4) // initial_display_delay_minus_1
			}
		}
	}
	wBits, hBits := int(r.bits(4))+1, int(r.bits(4))+1
	s.width, s.height = int(r.bits(wBits))+1, int(r.bits(hBits))+1
	if !s.reducedStill && r.bits(1) == 1 { // frame_id_numbers_present_flag
		r.bits(4) // delta_frame_id_length_minus_2
		r.bits(3) // additional_frame_id_length_minus_1
	}
	r.bits(3) // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
	if !s.reducedStill {
		r.bits(4) // enable_interintra_compound, enable_masked_compound, enable_warped_motion, enable_dual_filter
		orderHint := r.bits(1) == 1
		if orderHint {
			r.bits(2) // enable_jnt_comp, enable_ref_frame_mvs
		}
		forceScreen := uint(2) // SELECT_SCREEN_CONTENT_TOOLS
		if r.bits(1) == 0 {    // seq_choose_screen_content_tools
			forceScreen = r.bits(1)
		}
		if forceScreen > 0 && r.bits(1) == 0 { // seq_choose_integer_mv
			r.bits(1) // seq_force_integer_mv
		}
		if orderHint {
			r.bits(3) // order_hint_bits_minus_1
		}
	}
	r.bits(3) // enable_superres, enable_cdef, enable_restoration
	// color_config (§5.5.2)
	s.highBitdepth = r.bits(1)
	if s.profile == 2 && s.highBitdepth == 1 {
		s.twelveBit = r.bits(1)
	}
	if s.profile != 1 {
		s.mono = r.bits(1)
	}
	primaries, transfer, matrix := uint(2), uint(2), uint(2)
	if r.bits(1) == 1 { // color_description_present_flag
		primaries, transfer, matrix = r.bits(8), r.bits(8), r.bits(8)
	}
	switch {
	case s.mono == 1:
		r.bits(1) // color_range
		s.subX, s.subY = 1, 1
	case primaries == 1 && transfer == 13 && matrix == 0: // sRGB
	default:
		r.bits(1) // color_range
		switch s.profile {
		case 0:
			s.subX, s.subY = 1, 1
		case 1:
		default:
			if s.twelveBit == 1 {
				if s.subX = r.bits(1); s.subX == 1 {
					s.subY = r.bits(1)
				}
			} else {
				s.subX = 1
			}
		}
		if s.subX == 1 && s.subY == 1 {
			s.chromaPosition = r.bits(2)
		}
	}
	return s, !r.failed && s.profile <= 2
}

// uvlc reads a variable length unsigned number (AV1 §4.10.3).
func (r *bitReader) uvlc() uint {
	zeros := 0
	for r.bits(1) == 0 {
		if zeros++; zeros >= 32 || r.failed {
			r.failed = true
			return 0
		}
	}
	return r.bits(zeros) + 1<<zeros - 1
}
