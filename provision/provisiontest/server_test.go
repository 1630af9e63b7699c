package provisiontest

import (
	"net/http"
	"strings"
	"testing"
)

func post(t *testing.T, s *Server, contentType, body string) *http.Response {
	t.Helper()
	resp, err := s.Client().Post(s.URL+"/v1/session?fields=kind,user.id,sessionToken", contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestServerStrictness(t *testing.T) {
	good := `{"spaceId":"` + DefaultSpaceID + `","kind":"CUSTOM","data":{"email":"a@example.com","apiToken":"` + DefaultAPIToken + `"}}`
	tests := []struct {
		name        string
		contentType string
		body        string
		want        int
	}{
		{"valid", "application/json", good, 200},
		{"charset allowed", "application/json; charset=utf-8", good, 200},
		{"form content type", "application/x-www-form-urlencoded", good, 400},
		{"not JSON", "application/json", "email=a@example.com", 400},
		{"unknown top-level field", "application/json", strings.Replace(good, `"kind"`, `"extra":1,"kind"`, 1), 400},
		{"unknown data field", "application/json", strings.Replace(good, `"email"`, `"avatar":"x","email"`, 1), 400},
		{"kind not CUSTOM", "application/json", strings.Replace(good, "CUSTOM", "JWT", 1), 400},
		{"no spaceId", "application/json", strings.Replace(good, DefaultSpaceID, "", 1), 400},
		{"no apiToken", "application/json", strings.Replace(good, DefaultAPIToken, "", 1), 401},
		{"wrong apiToken", "application/json", strings.Replace(good, DefaultAPIToken, "nope", 1), 401},
		{"wrong space", "application/json", strings.Replace(good, DefaultSpaceID, "other-space", 1), 403},
		{"no email", "application/json", strings.Replace(good, `"email":"a@example.com",`, "", 1), 400},
		{"empty optional field", "application/json", strings.Replace(good, `"email"`, `"name":"","email"`, 1), 400},
		{"display-name email", "application/json", strings.Replace(good, `"a@example.com"`, `"A <a@example.com>"`, 1), 422},
		{"javascript avatar", "application/json", strings.Replace(good, `"email"`, `"avatarUrl":"javascript:alert(1)","email"`, 1), 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer()
			defer s.Close()
			if got := post(t, s, tt.contentType, tt.body).StatusCode; got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
			if reqs := s.Requests(); len(reqs) != 1 || reqs[0].Status != tt.want {
				t.Errorf("recorded %+v", reqs)
			}
		})
	}
}

func TestServerUpsert(t *testing.T) {
	s := NewServer()
	defer s.Close()
	send := func(data string) {
		t.Helper()
		body := `{"spaceId":"` + DefaultSpaceID + `","kind":"CUSTOM","data":{"apiToken":"` + DefaultAPIToken + `",` + data + `}}`
		if got := post(t, s, "application/json", body).StatusCode; got != 200 {
			t.Fatalf("status %d for %s", got, data)
		}
	}
	send(`"email":"Ana@Example.com","name":"Ana"`)
	send(`"email":"ana@example.com","team":"R&D"`)                // same user: found by email, case aside
	send(`"email":"new-ana@example.com","sub":"E1"`)              // a new user: found by sub, none yet
	send(`"email":"ana.lopez@example.com","sub":"E1","name":"A"`) // same as the one before: the sub wins
	users := s.Users()
	if len(users) != 2 {
		t.Fatalf("users = %v, want 2", users)
	}
	if u := users["ana@example.com"]; u.Name != "Ana" || u.Team != "R&D" || u.Upserts != 2 {
		t.Errorf("ana = %+v", u)
	}
	if u := users["ana.lopez@example.com"]; u.Sub != "E1" || u.Name != "A" || u.Upserts != 2 {
		t.Errorf("E1 = %+v", u)
	}
	tokens := map[string]bool{}
	for _, r := range s.Requests() {
		if tokens[r.Token] || !strings.Contains(r.Token, "_") {
			t.Errorf("token %q reused or not in the documented shape", r.Token)
		}
		tokens[r.Token] = true
	}
}
