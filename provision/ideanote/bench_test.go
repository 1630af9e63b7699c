package ideanote_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/provision"
	"github.com/ideanote-provision/ideanote-provision/provision/ideanote"
	"github.com/ideanote-provision/ideanote-provision/provision/provisiontest"
)

// BenchmarkClient measures one request through Client.Upsert against the in-process fake.
func BenchmarkClient(b *testing.B) {
	srv := provisiontest.NewServer()
	defer srv.Close()
	c := &ideanote.Client{BaseURL: srv.URL, SpaceID: provisiontest.DefaultSpaceID,
		APIToken: provisiontest.DefaultAPIToken, HTTPClient: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
	benchUpsert(b, c, provision.User{Email: "zoe.brontë@example.com", Sub: "E100", Name: "Zoë Brontë", Team: "Forschung & Entwicklung", Locale: "de"})
}

// benchUpsert measures c.Upsert of u.
func benchUpsert(b *testing.B, c *ideanote.Client, u provision.User) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Upsert(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode measures making the body of one request.
func BenchmarkEncode(b *testing.B) {
	c := &ideanote.Client{SpaceID: provisiontest.DefaultSpaceID, APIToken: provisiontest.DefaultAPIToken}
	u := provision.User{Email: "zoe.bronte@example.com", Sub: "E100", Name: "Zoë Brontë", Team: "Forschung & Entwicklung", Locale: "de",
		AvatarURL: "https://avatars.example.com/1.png"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encode(u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPost measures Client.Encode and Client.Post for one row, transport excluded.
func BenchmarkPost(b *testing.B) {
	c := &ideanote.Client{BaseURL: "https://api.example.com", SpaceID: provisiontest.DefaultSpaceID,
		APIToken: provisiontest.DefaultAPIToken, HTTPClient: &http.Client{Transport: provisiontest.CannedTransport{}}}
	benchUpsert(b, c, provision.User{Email: "zoe.bronte@example.com", Sub: "E100", Name: "Zoë Brontë", Team: "Forschung & Entwicklung", Locale: "de"})
}
