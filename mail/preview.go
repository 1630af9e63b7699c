package mail

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Preview writes a message (RFC 5322, as sent or as an .eml file) as a person would read it:
// its headers decoded, then its text part, with a note of the HTML part when there is one.
func Preview(w io.Writer, raw []byte) error {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("reading the message: %w", err)
	}
	dec := new(mime.WordDecoder)
	for _, h := range []string{"From", "To", "Reply-To", "Subject", "Date"} {
		if v := m.Header.Get(h); v != "" {
			if d, err := dec.DecodeHeader(v); err == nil {
				v = d
			}
			fmt.Fprintf(w, "%s: %s\n", h, v)
		}
	}
	text, html, err := bodies(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\n", strings.TrimRight(text, "\n"))
	if html != "" {
		fmt.Fprintf(w, "\n(and an HTML version of the same, %d bytes)\n", len(html))
	}
	return nil
}

// bodies returns the text and HTML bodies of a message, decoded.
func bodies(contentType, encoding string, body io.Reader) (text, html string, err error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart() // decodes quoted-printable by itself
			if err == io.EOF {
				return text, html, nil
			}
			if err != nil {
				return "", "", fmt.Errorf("reading the message's parts: %w", err)
			}
			t, h, err := bodies(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			if err != nil {
				return "", "", err
			}
			text, html = text+t, html+h
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return "", "", fmt.Errorf("reading the message's body: %w", err)
	}
	if mt == "text/html" {
		return "", string(b), nil
	}
	return string(b), "", nil
}
