package lessonvideo

import "image"

// I420Size is the size in bytes of a w × h frame in planar YUV 4:2:0
// (ffmpeg's yuv420p): a full-size luma plane and two quarter-size chroma
// planes.
func I420Size(w, h int) int { return w*h + 2*(w/2)*(h/2) }

// ToI420 converts an opaque RGBA picture of even width and height into
// dst, planar YUV 4:2:0 with BT.601's limited range, as ffmpeg's swscale
// converts RGBA by default, so that the encoder takes the frame as it is
// instead of converting every frame itself. Each chroma sample is the mean
// of its 2 × 2 pixels. dst holds I420Size bytes.
func ToI420(dst []byte, src *image.RGBA) {
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	ys, us, vs := dst[:w*h], dst[w*h:w*h+(w/2)*(h/2)], dst[w*h+(w/2)*(h/2):I420Size(w, h)]
	for y := 0; y+1 < h; y += 2 {
		row0 := src.Pix[y*src.Stride : y*src.Stride+4*w]
		row1 := src.Pix[(y+1)*src.Stride : (y+1)*src.Stride+4*w]
		y0, y1 := ys[y*w:(y+1)*w], ys[(y+1)*w:(y+2)*w]
		ci := (y / 2) * (w / 2)
		for x := 0; x < w; x += 2 {
			top, bot := row0[4*x:4*x+8:4*x+8], row1[4*x:4*x+8:4*x+8]
			r0, g0, b0 := int32(top[0]), int32(top[1]), int32(top[2])
			r1, g1, b1 := int32(top[4]), int32(top[5]), int32(top[6])
			r2, g2, b2 := int32(bot[0]), int32(bot[1]), int32(bot[2])
			r3, g3, b3 := int32(bot[4]), int32(bot[5]), int32(bot[6])
			y0[x] = luma8(r0, g0, b0)
			y0[x+1] = luma8(r1, g1, b1)
			y1[x] = luma8(r2, g2, b2)
			y1[x+1] = luma8(r3, g3, b3)
			rs, gs, bs := r0+r1+r2+r3, g0+g1+g2+g3, b0+b1+b2+b3
			us[ci+x/2] = uint8((-38*rs-74*gs+112*bs+512)>>10 + 128)
			vs[ci+x/2] = uint8((112*rs-94*gs-18*bs+512)>>10 + 128)
		}
	}
}

// luma8 is BT.601's limited-range luma of an 8-bit colour.
func luma8(r, g, b int32) uint8 { return uint8((66*r+129*g+25*b+128)>>8 + 16) }
