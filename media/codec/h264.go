package codec

// h264Keyframe reports whether an H.264 RTP payload (RFC 6184) carries, or
// starts, an IDR slice or a sequence parameter set.
func h264Keyframe(b []byte) bool {
	if len(b) < 1 {
		return false
	}
	switch nal := b[0] & 0x1f; {
	case nal == 5 || nal == 7:
		return true
	case nal == 24: // STAP-A: 16-bit sizes, then NAL units
		for i := 1; i+2 < len(b); {
			size := int(b[i])<<8 | int(b[i+1])
			i += 2
			if i >= len(b) {
				return false
			}
			if t := b[i] & 0x1f; t == 5 || t == 7 {
				return true
			}
			i += size
		}
	case nal == 28: // FU-A: the start fragment of an IDR
		return len(b) > 1 && b[1]&0x80 != 0 && (b[1]&0x1f == 5 || b[1]&0x1f == 7)
	}
	return false
}

// H264NALUs splits an H.264 access unit in Annex B form (start codes of 3
// or 4 bytes, as pion's depacketizer assembles it) into its NAL units,
// without their start codes. The units share b's memory.
func H264NALUs(b []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i+2 < len(b); {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				end := i
				if end > start && b[end-1] == 0 {
					end-- // the first zero of a 4-byte start code
				}
				out = append(out, b[start:end])
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 && start < len(b) {
		out = append(out, b[start:])
	}
	return out
}

// H264Keyframe reports whether an Annex B access unit holds an IDR slice.
func H264Keyframe(au []byte) bool {
	for _, n := range H264NALUs(au) {
		if len(n) > 0 && n[0]&0x1f == 5 {
			return true
		}
	}
	return false
}

// H264AVCC turns an Annex B access unit into the length-prefixed form
// (4-byte big-endian sizes) Matroska and MP4 carry, leaving out access unit
// delimiters and empty units.
func H264AVCC(au []byte) []byte {
	out := make([]byte, 0, len(au)+16)
	for _, n := range H264NALUs(au) {
		if len(n) == 0 || n[0]&0x1f == 9 {
			continue
		}
		out = append(out, byte(len(n)>>24), byte(len(n)>>16), byte(len(n)>>8), byte(len(n)))
		out = append(out, n...)
	}
	return out
}

// H264Config returns the AVCDecoderConfigurationRecord (ISO 14496-15
// §5.2.4.1, Matroska's and MP4's codec private data) of the first sequence
// and picture parameter sets of an Annex B access unit, and the picture
// size the sequence parameter set gives; nil when the unit lacks either set.
func H264Config(au []byte) (record []byte, width, height int) {
	var sps, pps []byte
	for _, n := range H264NALUs(au) {
		switch {
		case len(n) >= 4 && n[0]&0x1f == 7 && sps == nil:
			sps = n
		case len(n) >= 1 && n[0]&0x1f == 8 && pps == nil:
			pps = n
		}
	}
	if sps == nil || pps == nil || len(sps) > 0xffff || len(pps) > 0xffff {
		return nil, 0, 0
	}
	record = []byte{1, sps[1], sps[2], sps[3], 0xff, 0xe1, byte(len(sps) >> 8), byte(len(sps))}
	record = append(record, sps...)
	record = append(record, 1, byte(len(pps)>>8), byte(len(pps)))
	record = append(record, pps...)
	width, height = h264Size(sps)
	return record, width, height
}

// h264Size reads the picture size from a sequence parameter set (ITU-T
// H.264 §7.3.2.1.1); 0, 0 when it cannot.
func h264Size(sps []byte) (width, height int) {
	r := &bitReader{b: unescape(sps[1:])}
	profile := r.bits(8)
	r.bits(16) // constraint flags, level
	r.ue()     // seq_parameter_set_id
	chroma := uint(1)
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		if chroma = r.ue(); chroma == 3 {
			r.bits(1) // separate_colour_plane_flag
		}
		r.ue()              // bit_depth_luma_minus8
		r.ue()              // bit_depth_chroma_minus8
		r.bits(1)           // qpprime_y_zero_transform_bypass_flag
		if r.bits(1) == 1 { // seq_scaling_matrix_present_flag
			lists := 8
			if chroma == 3 {
				lists = 12
			}
			for i := 0; i < lists; i++ {
				if r.bits(1) == 0 {
					continue
				}
				size := 16
				if i >= 6 {
					size = 64
				}
				last, next := 8, 8
				for j := 0; j < size; j++ {
					if next != 0 {
						next = (last + r.se() + 256) % 256
					}
					if next != 0 {
						last = next
					}
				}
			}
		}
	}
	r.ue()          // log2_max_frame_num_minus4
	switch r.ue() { // pic_order_cnt_type
	case 0:
		r.ue()
	case 1:
		r.bits(1)
		r.se()
		r.se()
		for n := r.ue(); n > 0 && !r.failed; n-- {
			r.se()
		}
	}
	r.ue()    // max_num_ref_frames
	r.bits(1) // gaps_in_frame_num_value_allowed_flag
	mbW, mbH := r.ue()+1, r.ue()+1
	frameMbsOnly := r.bits(1)
	if frameMbsOnly == 0 {
		r.bits(1) // mb_adaptive_frame_field_flag
	}
	r.bits(1) // direct_8x8_inference_flag
	var cl, cr, ct, cb uint
	if r.bits(1) == 1 { // frame_cropping_flag
		cl, cr, ct, cb = r.ue(), r.ue(), r.ue(), r.ue()
	}
	if r.failed {
		return 0, 0
	}
	cropX, cropY := uint(2), 2*(2-frameMbsOnly) // 4:2:0
	switch chroma {
	case 0, 3:
		cropX, cropY = 1, 2-frameMbsOnly
	case 2:
		cropX, cropY = 2, 2-frameMbsOnly
	}
	w := int(mbW*16) - int((cl+cr)*cropX)
	h := int(mbH*16*(2-frameMbsOnly)) - int((ct+cb)*cropY)
	if w <= 0 || h <= 0 || w > 16384 || h > 16384 {
		return 0, 0
	}
	return w, h
}

// unescape removes the emulation prevention bytes (0x03 after 0x00 0x00).
func unescape(b []byte) []byte {
	out := make([]byte, 0, len(b))
	zeros := 0
	for _, c := range b {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, c)
	}
	return out
}

// bitReader reads bits and Exp-Golomb codes; past the end it reads zeros
// and sets failed.
type bitReader struct {
	b      []byte
	pos    int
	failed bool
}

func (r *bitReader) bits(n int) uint {
	var v uint
	for ; n > 0; n-- {
		if r.pos >= len(r.b)*8 {
			r.failed = true
			return v
		}
		v = v<<1 | uint(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

func (r *bitReader) ue() uint {
	zeros := 0
	for r.bits(1) == 0 {
		if zeros++; zeros > 31 || r.failed {
			r.failed = true
			return 0
		}
	}
	return 1<<zeros - 1 + r.bits(zeros)
}

func (r *bitReader) se() int {
	v := r.ue()
	if v&1 == 1 {
		return int(v+1) / 2
	}
	return -int(v / 2)
}
