package domain

import (
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
)

// VerificationFile is the proof of ownership a receiver serves: a file
// called Name, next to the callback URL or at the site root, whose content is
// Token. Name and Token are independent random strings, so knowing the file
// name (which shows up in access logs) does not reveal the content.
type VerificationFile struct {
	Name  string `json:"name"`
	Token string `json:"token"`
}

// Sizes of the random parts of a verification file, in bytes.
const (
	verificationNameBytes  = 16
	verificationTokenBytes = 32
)

var (
	verificationFileName  = regexp.MustCompile(`^webhookd-[a-z0-9]{16,64}\.txt$`)
	verificationFileToken = regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`)
)

// NewVerificationFile builds a verification file from random bytes read from
// r (crypto/rand.Reader in production, a fixed reader in tests): the name is
// webhookd-<32 hex digits>.txt and the token 64 hex digits.
func NewVerificationFile(r io.Reader) (VerificationFile, error) {
	b := make([]byte, verificationNameBytes+verificationTokenBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return VerificationFile{}, fmt.Errorf("new verification file: %w", err)
	}
	return VerificationFile{
		Name:  "webhookd-" + hex.EncodeToString(b[:verificationNameBytes]) + ".txt",
		Token: hex.EncodeToString(b[verificationNameBytes:]),
	}, nil
}

// Validate checks that the file has the shape NewVerificationFile gives it.
// A malformed file is a programming error in the caller, reported as EINVALID
// on the field "verificationFile".
func (f VerificationFile) Validate() error {
	if !verificationFileName.MatchString(f.Name) || !verificationFileToken.MatchString(f.Token) {
		return FieldErrorf(EINVALID, "verificationFile", "malformed verification file")
	}
	return nil
}

// Matches reports whether content fetched from a receiver proves ownership:
// it must equal the token once surrounding whitespace is trimmed (editors
// and servers add newlines).
func (f VerificationFile) Matches(content []byte) bool {
	return f.Token != "" && strings.TrimSpace(string(content)) == f.Token
}

// VerificationFileLocations returns the URLs at which the file is looked for,
// in order: in the directory of the callback URL, then at the root of its
// origin (only once when the two coincide). Query and fragment are dropped.
func VerificationFileLocations(callbackURL string, f VerificationFile) ([]string, error) {
	if err := ValidateCallbackURL(callbackURL); err != nil {
		return nil, err
	}
	u, _ := url.Parse(callbackURL) // validated above
	origin := u.Scheme + "://" + u.Host
	dir := u.EscapedPath()
	dir = dir[:strings.LastIndexByte(dir, '/')+1] // "" when the path is empty
	locations := []string{origin + "/" + f.Name}
	if dir != "" && dir != "/" {
		locations = append([]string{origin + dir + f.Name}, locations...)
	}
	return locations, nil
}
