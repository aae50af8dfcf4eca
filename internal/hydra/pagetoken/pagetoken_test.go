package pagetoken

import "testing"

func TestNext(t *testing.T) {
	tests := []struct {
		name  string
		links []string
		want  string
	}{
		{"Hydra's first page", []string{`</admin/clients?owner=o&page_size=2&page_token=eyJvZmZzZXQiOiIyIiwidiI6Mn0>; rel="next",</admin/clients?owner=o&page_size=2&page_token=eyJvZmZzZXQiOiIyIiwidiI6Mn0>; rel="last"`}, "eyJvZmZzZXQiOiIyIiwidiI6Mn0"},
		{"Hydra's last page", []string{`</admin/clients?page_size=2&page_token=a>; rel="first",</admin/clients?page_size=2&page_token=b>; rel="prev"`}, ""},
		{"next not first", []string{`<http://h/admin/clients?page_token=p>; rel="prev", <http://h/admin/clients?page_token=n>; rel="next"`}, "n"},
		{"several headers", []string{`</x?page_token=p>; rel="prev"`, `</x?page_token=n>; rel=next`}, "n"},
		{"several relations", []string{`</x?page_token=n>; title="t"; rel="last next"`}, "n"},
		{"escaped token", []string{`</x?page_token=a%2Bb%3D>; rel="next"`}, "a+b="},
		{"no header", nil, ""},
		{"garbage", []string{`nonsense`, `<>`, `;;;`}, ""},
	}
	for _, tt := range tests {
		if got := Next(tt.links); got != tt.want {
			t.Errorf("%s: Next = %q, want %q", tt.name, got, tt.want)
		}
	}
}
