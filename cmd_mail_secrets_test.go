package main

import (
	"os"
	"strings"
	"testing"

	"github.com/ideanote-provision/ideanote-provision/mail"
	"github.com/ideanote-provision/ideanote-provision/mail/mailtest"
)

// TestMailPasswordNeverShown runs mail in the ways a password could leak, and checks that no
// 6 characters of it in a row are in stdout, stderr or the mail report.
func TestMailPasswordNeverShown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		serverPw  string // the password the fake takes; "" for no login at all
		args      func(srv *mailtest.Server) []string
		code      int
		stderrHas string
	}{
		{name: "login refused", serverPw: "another-password", code: exitAborted, stderrHas: "refused the login"},
		{name: "login accepted", serverPw: secret, code: exitOK},
		{name: "dry run", serverPw: secret, args: func(*mailtest.Server) []string { return []string{"--dry-run"} }, code: exitOK},
		{name: "password in the URL", serverPw: secret, code: exitUsage, stderrHas: "holds a password",
			args: func(srv *mailtest.Server) []string {
				return []string{"--smtp-url", "smtp://it:" + secret + "@" + srv.Addr}
			}},
		{name: "password but no user in the URL", serverPw: secret, code: exitUsage, stderrHas: "names no user",
			args: func(srv *mailtest.Server) []string { return []string{"--smtp-url", "smtp://" + srv.Addr} }},
		{name: "password as a flag", code: exitUsage, stderrHas: "never a flag",
			args: func(*mailtest.Server) []string { return []string{"--smtp-password=" + secret} }},
		{name: "password as a flag, spaced", code: exitUsage, stderrHas: "never a flag",
			args: func(*mailtest.Server) []string { return []string{"--password", secret} }},
		{name: "password as a flag, one dash", code: exitUsage, stderrHas: "never a flag",
			args: func(*mailtest.Server) []string { return []string{"-smtp-password", secret} }},
		{name: "password in an unknown flag", code: exitUsage,
			args: func(*mailtest.Server) []string { return []string{"--smtppassword=" + secret} }},
		{name: "password as the password file", code: exitUsage, stderrHas: "--smtp-password-file",
			args: func(*mailtest.Server) []string { return []string{"--smtp-password-file", secret} }},
	}
	for _, format := range []string{"text", "json"} {
		for _, tt := range tests {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				srv := newSMTP(t, func(s *mailtest.Server) {
					if tt.serverPw != "" {
						s.User, s.Password = "it", tt.serverPw
					}
				})
				rep := writeProvisioned(t, 3)
				args := []string{"--log-format", format}
				if tt.args != nil {
					args = append(args, tt.args(srv)...)
				}
				got := invokeMail(t, map[string]string{"IDEANOTE_SMTP_PASSWORD": secret}, mailArgs(srv, rep, args...)...)
				o := outcome{code: got.code, stdout: got.stdout, stderr: got.stderr}
				if b, err := os.ReadFile(mail.DefaultMailReport(rep)); err == nil {
					o.report = string(b)
				}
				noSecret(t, o, secret)
				if got.code != tt.code || !strings.Contains(got.stderr, tt.stderrHas) {
					t.Errorf("exit %d, want %d with %q; stderr:\n%s", got.code, tt.code, tt.stderrHas, got.stderr)
				}
				if tt.code == exitOK && tt.name != "dry run" && !strings.Contains(o.report, mailEmail(0)) { // a dry run writes none
					t.Errorf("mail report:\n%s", o.report)
				}
			})
		}
	}
}
