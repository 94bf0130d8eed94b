// Package webhookstest builds signed webhook requests, for testing code that
// receives DoubleTick webhooks with package webhooks.
//
//	req, err := webhookstest.NewRequest("/webhooks", body, webhookstest.Bearer("s3cret"))
//	rec := httptest.NewRecorder()
//	handler.ServeHTTP(rec, req)
package webhookstest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick/webhooks"
)

// Signer adds a credential or signature to a request whose body is body.
type Signer func(r *http.Request, body []byte) error

// NewRequest returns a POST of body to target (a path or a URL), with
// Content-Type application/json, and each signer applied in order.
func NewRequest(target string, body []byte, signers ...Signer) (*http.Request, error) {
	r, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	for _, sign := range signers {
		if err := sign(r, body); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Basic sets "Authorization: Basic" with the base64 of credentials
// ("user:password").
func Basic(credentials string) Signer {
	return Header("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(credentials)))
}

// Bearer sets "Authorization: Bearer <token>".
func Bearer(token string) Signer { return Header("Authorization", "Bearer "+token) }

// Header sets a header.
func Header(name, value string) Signer {
	return func(r *http.Request, _ []byte) error {
		r.Header.Set(name, value)
		return nil
	}
}

// Query adds a query parameter.
func Query(param, value string) Signer {
	return func(r *http.Request, _ []byte) error {
		q := r.URL.Query()
		q.Add(param, value)
		r.URL.RawQuery = q.Encode()
		return nil
	}
}

// HMAC sets header to SignHMAC(secret, enc, body).
func HMAC(header string, enc webhooks.Encoding, secret []byte) Signer {
	return func(r *http.Request, body []byte) error {
		r.Header.Set(header, SignHMAC(secret, enc, body))
		return nil
	}
}

// SignHMAC returns the HMAC-SHA256 of body with secret, in enc.
func SignHMAC(secret []byte, enc webhooks.Encoding, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	if enc == webhooks.Base64 {
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// Standard sets the three Standard Webhooks headers for a message id signed
// at the given time with secret ("whsec_<base64>").
func Standard(secret, id string, at time.Time) Signer {
	return func(r *http.Request, body []byte) error {
		sig, err := SignStandard(secret, id, at, body)
		if err != nil {
			return err
		}
		r.Header.Set(webhooks.HeaderWebhookID, id)
		r.Header.Set(webhooks.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
		r.Header.Set(webhooks.HeaderWebhookSignature, sig)
		return nil
	}
}

// SignStandard returns the "v1,<base64>" Standard Webhooks signature of body.
func SignStandard(secret, id string, at time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return "", errors.New("webhookstest: the secret is not whsec_ and base64")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(at.Unix(), 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)), nil
}
