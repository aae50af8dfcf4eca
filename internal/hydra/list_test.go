package hydra

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestDecodePage(t *testing.T) {
	tests := []struct {
		name, body string
		ids        []string
		fails      bool
	}{
		{"null", `null`, nil, false},
		{"empty", `[]`, nil, false},
		{"two clients, one with a field the SDK does not know", `[{"client_id":"a","scope":"read","future_field":1},{"client_id":"b"}]`, []string{"a", "b"}, false},
		{"an object, not a list", `{"client_id":"a"}`, nil, true},
		{"cut short", `[{"client_id":"a"},{"client_`, nil, true},
		{"not JSON", `<html>`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := decodePage(strings.NewReader(tt.body))
			if (err != nil) != tt.fails {
				t.Fatalf("err = %v, want failure %v", err, tt.fails)
			}
			var ids []string
			for _, c := range page {
				ids = append(ids, c.GetClientId())
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.ids) {
				t.Errorf("ids = %v, want %v", ids, tt.ids)
			}
		})
	}
}

// TestDecodePageMatchesTheSDK: a page decoded without the SDK's UnmarshalJSON holds the same
// clients as the SDK's decoding, but for AdditionalProperties.
func TestDecodePageMatchesTheSDK(t *testing.T) {
	body := samplePage(t, 3)
	var want []OAuth2Client
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatal(err)
	}
	got, err := decodePage(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		want[i].AdditionalProperties = nil
	}
	wantJSON, _ := json.Marshal(want)
	gotJSON, _ := json.Marshal(got)
	if string(wantJSON) != string(gotJSON) {
		t.Errorf("decodePage:\n%s\nthe SDK:\n%s", gotJSON, wantJSON)
	}
}

// samplePage is a list page of n clients as Hydra answers them for the operator's resources.
func samplePage(tb testing.TB, n int) []byte {
	tb.Helper()
	spec := everyFieldSpec()
	page := make([]OAuth2Client, n)
	for i := range page {
		c, err := Desired(spec, fmt.Sprintf("%08d-4a8e-4c6f-9a2b-3c1d5e7f9b0a", i), OwnerFor("team-"+fmt.Sprint(i%10), fmt.Sprintf("client-%d", i)))
		if err != nil {
			tb.Fatal(err)
		}
		c.CreatedAt, c.UpdatedAt = nil, nil
		page[i] = *c
	}
	body, err := json.Marshal(page)
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

// BenchmarkListPageDecode decodes a page of 500 clients, the operator's default page size, the
// SDK's way (its UnmarshalJSON per client) and decodePage's: compare the two in one run.
func BenchmarkListPageDecode(b *testing.B) {
	body := samplePage(b, 500)
	b.Run("sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var page []OAuth2Client
			if err := json.Unmarshal(body, &page); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decodePage", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodePage(strings.NewReader(string(body))); err != nil {
				b.Fatal(err)
			}
		}
	})
}
