package sfu

import "testing"

func TestCacheSinceKeyframe(t *testing.T) {
	var c cache
	if c.sinceKeyframe() != nil {
		t.Fatal("an empty cache has a keyframe")
	}
	c.put(vp8(65534, 0, false))
	c.put(vp8(65535, 3000, true))
	c.put(vp8(0, 6000, false))
	c.put(vp8(2, 9000, false)) // 1 lost upstream
	got := c.sinceKeyframe()
	if len(got) != 3 || got[0].Header.SequenceNumber != 65535 || got[2].Header.SequenceNumber != 2 {
		t.Fatalf("since the keyframe: %d packets", len(got))
	}
	for i := range uint16(cacheSize) {
		c.put(vp8(3+i, 0, false))
	}
	if c.sinceKeyframe() != nil {
		t.Fatal("a keyframe older than the cache is still offered")
	}
	if c.get(2) != nil || c.get(3+cacheSize-1) == nil {
		t.Fatal("the cache kept the wrong packets")
	}
}
