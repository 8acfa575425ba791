package cluster_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"classroom/cluster"
)

func TestSignAndVerify(t *testing.T) {
	key := cluster.LinkKey([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Unix(1_800_000_000, 0)
	r := httptest.NewRequest("GET", "http://node-a/internal/link?lesson=x", nil)
	cluster.SignRequest(r, key, "node-b", now)
	node, err := cluster.VerifyRequest(r, key, now.Add(10*time.Second))
	if err != nil || node != "node-b" {
		t.Fatalf("verify = %q, %v; want node-b", node, err)
	}

	refused := map[string]func() (string, error){
		"no header": func() (string, error) {
			return cluster.VerifyRequest(httptest.NewRequest("GET", "/internal/link", nil), key, now)
		},
		"expired": func() (string, error) {
			return cluster.VerifyRequest(r, key, now.Add(cluster.AuthValidity+time.Second))
		},
		"from the future": func() (string, error) {
			return cluster.VerifyRequest(r, key, now.Add(-cluster.AuthValidity-time.Second))
		},
		"other key": func() (string, error) {
			return cluster.VerifyRequest(r, cluster.LinkKey([]byte("another key, 32 bytes long......")), now)
		},
		"token key itself": func() (string, error) {
			o := httptest.NewRequest("GET", "/internal/link", nil)
			cluster.SignRequest(o, []byte("0123456789abcdef0123456789abcdef"), "node-b", now)
			return cluster.VerifyRequest(o, key, now)
		},
		"other path": func() (string, error) {
			o := httptest.NewRequest("GET", "/internal/other", nil)
			o.Header.Set("Authorization", r.Header.Get("Authorization"))
			return cluster.VerifyRequest(o, key, now)
		},
		"other method": func() (string, error) {
			o := httptest.NewRequest("POST", "/internal/link", nil)
			o.Header.Set("Authorization", r.Header.Get("Authorization"))
			return cluster.VerifyRequest(o, key, now)
		},
		"node renamed": func() (string, error) {
			o := httptest.NewRequest("GET", "/internal/link", nil)
			o.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "node-b", "node-c", 1))
			return cluster.VerifyRequest(o, key, now)
		},
		"time moved": func() (string, error) {
			o := httptest.NewRequest("GET", "/internal/link", nil)
			h := cluster.Bearer(key, "node-b", "GET", "/internal/link", now)
			o.Header.Set("Authorization", strings.Replace(h, ":1800000000:", ":1800000001:", 1))
			return cluster.VerifyRequest(o, key, now)
		},
		"malformed": func() (string, error) {
			o := httptest.NewRequest("GET", "/internal/link", nil)
			o.Header.Set("Authorization", "ClassroomNode node-b:x")
			return cluster.VerifyRequest(o, key, now)
		},
		"bearer of a token": func() (string, error) {
			o := httptest.NewRequest("GET", "/internal/link", nil)
			o.Header.Set("Authorization", "Bearer eyJhbGciOi.e30.sig")
			return cluster.VerifyRequest(o, key, now)
		},
	}
	for name, verify := range refused {
		node, err := verify()
		if !errors.Is(err, cluster.ErrUnauthenticated) || node != "" {
			t.Errorf("%s: verify = %q, %v; want refused", name, node, err)
		}
	}
}
