package webhooks_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/doubletick-go/doubletick/webhooks"
	"github.com/doubletick-go/doubletick/webhooks/webhookstest"
)

// orgSecret is organisation id's credential in these tests.
func orgSecret(id string) string { return "secret-of-" + id + "-0123456789" }

// orgSigner signs a request as organisation id: the even ones by HMAC over
// the body, the odd ones by a bearer token (checked before the body is
// read), so that both kinds of Verifier serve side by side.
func orgSigner(i int, id string) webhookstest.Signer {
	if i%2 == 0 {
		return webhookstest.HMAC("X-Signature", webhooks.Hex, []byte(orgSecret(id)))
	}
	return webhookstest.Bearer(orgSecret(id))
}

// newOrgs returns n organisations, org-000 to org-(n-1), each verified
// with its own credential.
func newOrgs(t testing.TB, n int) (*webhooks.Orgs, []string) {
	t.Helper()
	var orgs webhooks.Orgs
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("org-%03d", i)
		var v webhooks.Verifier
		var err error
		if i%2 == 0 {
			v, err = webhooks.NewHMACVerifier("X-Signature", webhooks.Hex, []byte(orgSecret(ids[i])))
		} else {
			v, err = webhooks.NewBearerVerifier(orgSecret(ids[i]))
		}
		require.NoError(t, err)
		require.NoError(t, orgs.Set(webhooks.Org{ID: ids[i], Verifier: v}))
	}
	return &orgs, ids
}

// groupCreated is a GROUP_CREATED delivery of group id, the same ID in
// every organisation (groupId is chosen by each integration).
func groupCreated(id string) []byte {
	return []byte(`{"event":"GROUP_CREATED","orgId":"dt_org","integrationId":"i","groupId":"` + id + `","groupName":"G","inviteLink":null,"groupCreatedAt":"2026-01-15T09:30:00.000Z"}`)
}

func TestOrgHandlerServesEachOrganisationWithItsOwnCredential(t *testing.T) {
	orgs, ids := newOrgs(t, 100)
	dedup, err := webhooks.NewMemoryDeduplicator(time.Hour, 10_000)
	require.NoError(t, err)
	var mu sync.Mutex
	seen := map[string]int{} // organisation → GROUP_CREATED callbacks
	var observed []string
	h, err := webhooks.NewOrgHandler(orgs, webhooks.WithDeduplicator(dedup),
		webhooks.OnGroupCreated(func(ctx context.Context, e *webhooks.GroupCreated) error {
			mu.Lock()
			defer mu.Unlock()
			seen[webhooks.OrgFromContext(ctx)]++
			return nil
		}),
		webhooks.WithObserver(webhooks.Observer{Delivery: func(_ context.Context, d webhooks.DeliveryInfo) {
			mu.Lock()
			defer mu.Unlock()
			observed = append(observed, fmt.Sprintf("%s %d", d.Org, d.Status))
		}}))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /hooks/{org}", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	send := func(target string, signer webhookstest.Signer) int {
		t.Helper()
		r, err := webhookstest.NewRequest(target, groupCreated("grp-shared"), signer)
		require.NoError(t, err)
		resp, err := srv.Client().Do(r)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			assert.Equal(t, http.StatusOK, send(srv.URL+"/hooks/"+id, orgSigner(i, id)), id)
		})
	}
	wg.Wait()
	// The same event for each organisation again: a redelivery, absorbed
	// per organisation.
	for i, id := range ids[:10] {
		assert.Equal(t, http.StatusOK, send(srv.URL+"/hooks/"+id, orgSigner(i, id)), id)
	}
	// A's credential on B's path, of both kinds; an unknown organisation;
	// an ID no organisation can have.
	assert.Equal(t, http.StatusUnauthorized, send(srv.URL+"/hooks/"+ids[1], orgSigner(0, ids[0])))
	assert.Equal(t, http.StatusUnauthorized, send(srv.URL+"/hooks/"+ids[0], orgSigner(1, ids[1])))
	assert.Equal(t, http.StatusUnauthorized, send(srv.URL+"/hooks/"+ids[3], orgSigner(1, ids[1])))
	assert.Equal(t, http.StatusNotFound, send(srv.URL+"/hooks/org-999", orgSigner(0, "org-999")))
	assert.Equal(t, http.StatusNotFound, send(srv.URL+"/hooks/a%2Fb", orgSigner(0, "a/b")))

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 100, "every organisation's event ran, though all share a group ID")
	for _, id := range ids {
		assert.Equal(t, 1, seen[id], "%s: its callback ran once, with its own organisation", id)
	}
	assert.Contains(t, observed, "org-001 401", "a refusal after the lookup names the organisation")
	assert.Contains(t, observed, " 404", "an unknown organisation is named nowhere")
	assert.Contains(t, observed, "org-042 200")
}

// countingBody records whether a request's body was read.
type countingBody struct {
	io.Reader
	read bool
}

func (b *countingBody) Read(p []byte) (int, error) { b.read = true; return b.Reader.Read(p) }
func (b *countingBody) Close() error               { return nil }

func TestOrgHandlerRefusesUnknownOrganisationBeforeReadingTheBody(t *testing.T) {
	orgs, _ := newOrgs(t, 2)
	ran := false
	h, err := webhooks.NewOrgHandler(orgs, webhooks.OnEvent(func(context.Context, webhooks.Event) error { ran = true; return nil }))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /hooks/{org}", h)
	for _, path := range []string{"/hooks/org-777", "/hooks/" + strings.Repeat("x", 65), "/hooks/%00"} {
		body := &countingBody{Reader: strings.NewReader(string(groupCreated("g")))}
		r := httptest.NewRequest(http.MethodPost, path, body)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+orgSecret("org-001"))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		assert.Equal(t, http.StatusNotFound, rec.Code, path)
		assert.Equal(t, "close", rec.Header().Get("Connection"), path)
		assert.False(t, body.read, "%s: the body of a request to no organisation is never read", path)
	}
	assert.False(t, ran)
}

func TestOrgHandlerRemovedOrganisation(t *testing.T) {
	orgs, ids := newOrgs(t, 2)
	var got []string
	h, err := webhooks.NewOrgHandler(orgs, webhooks.OnEvent(func(ctx context.Context, e webhooks.Event) error {
		got = append(got, webhooks.OrgFromContext(ctx))
		return nil
	}))
	require.NoError(t, err)
	ev, err := webhooks.Parse(groupCreated("g"))
	require.NoError(t, err)

	require.NoError(t, h.Dispatch(webhooks.ContextWithOrg(context.Background(), ids[1]), ev))
	assert.True(t, orgs.Remove(ids[1]))
	assert.False(t, orgs.Remove(ids[1]))
	err = h.Dispatch(webhooks.ContextWithOrg(context.Background(), ids[1]), ev)
	require.ErrorIs(t, err, webhooks.ErrUnknownOrg)
	assert.Contains(t, err.Error(), "org-001 is no longer served")
	require.ErrorIs(t, h.Dispatch(context.Background(), ev), webhooks.ErrUnknownOrg, "no organisation in the context")
	assert.Equal(t, []string{ids[1]}, got, "nothing runs for an organisation no longer served")
	assert.Equal(t, []string{ids[0]}, orgs.IDs())

	r, err := webhookstest.NewRequest("http://127.0.0.1/hooks/"+ids[1], groupCreated("g"), orgSigner(1, ids[1]))
	require.NoError(t, err)
	r.SetPathValue("org", ids[1])
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusNotFound, rec.Code, "a removed organisation's deliveries are refused")
}

func TestOrgHandlerLookupFailureAndOrgFrom(t *testing.T) {
	v, err := webhooks.NewBearerVerifier(orgSecret("acme"))
	require.NoError(t, err)
	down := errors.New("organisations table unreachable")
	lookup := webhooks.OrgLookupFunc(func(_ context.Context, id string) (webhooks.Org, error) {
		switch id {
		case "acme":
			return webhooks.Org{Verifier: v}, nil // the ID is the one asked for
		case "flaky":
			return webhooks.Org{}, down
		}
		return webhooks.Org{}, webhooks.ErrUnknownOrg
	})
	var orgSeen string
	h, err := webhooks.NewOrgHandler(lookup,
		webhooks.WithOrgFrom(func(r *http.Request) string { return r.Header.Get("X-Tenant") }),
		webhooks.OnEvent(func(ctx context.Context, _ webhooks.Event) error { orgSeen = webhooks.OrgFromContext(ctx); return nil }))
	require.NoError(t, err)
	for tenant, want := range map[string]int{"acme": 200, "flaky": 500, "other": 404, "": 404} {
		r, err := webhookstest.NewRequest("http://127.0.0.1/hooks", groupCreated("g"), webhookstest.Bearer(orgSecret("acme")))
		require.NoError(t, err)
		r.Header.Set("X-Tenant", tenant)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assert.Equal(t, want, rec.Code, tenant)
	}
	assert.Equal(t, "acme", orgSeen)

	_, err = webhooks.NewOrgHandler(nil)
	require.Error(t, err)
	_, err = webhooks.NewOrgHandler(lookup, webhooks.WithOrgFrom(nil))
	require.Error(t, err)
}

func TestOrgsRefusesBadOrganisations(t *testing.T) {
	v := bearer(t)
	var orgs webhooks.Orgs
	for _, org := range []webhooks.Org{
		{ID: "", Verifier: v},
		{ID: "a/b", Verifier: v},
		{ID: "tenant one", Verifier: v},
		{ID: strings.Repeat("a", 65), Verifier: v},
		{ID: "ok"},
		{ID: "ok", Verifier: v, Format: "XML"},
	} {
		assert.Error(t, orgs.Set(org), "%+v", org.ID)
	}
	require.NoError(t, orgs.Set(webhooks.Org{ID: "Acme_Corp-2.eu", Verifier: v, Format: webhooks.BodyFormData}))
	assert.Equal(t, []string{"Acme_Corp-2.eu"}, orgs.IDs())
}

func TestOrgDedupKey(t *testing.T) {
	assert.Equal(t, "acme/g|GROUP_CREATED", webhooks.OrgDedupKey("acme", "g|GROUP_CREATED"))
	assert.Equal(t, "k", webhooks.OrgDedupKey("", "k"), "one organisation: keys as before")
	assert.Equal(t, "", webhooks.OrgDedupKey("acme", ""), "an event never deduplicated stays so")
}

func TestOrgHandlerPerOrganisationFormatAndPatternPathType(t *testing.T) {
	hmac := func(id string) webhooks.Verifier {
		v, err := webhooks.NewHMACVerifier("X-Signature", webhooks.Hex, []byte(orgSecret(id)))
		require.NoError(t, err)
		return v
	}
	var orgs webhooks.Orgs
	require.NoError(t, orgs.Set(webhooks.Org{ID: "json", Verifier: hmac("json")}))
	require.NoError(t, orgs.Set(webhooks.Org{ID: "form", Verifier: hmac("form"), Format: webhooks.BodyFormData}))
	var types []string
	h, err := webhooks.NewOrgHandler(&orgs, webhooks.WithPathType("/hooks/{org}/status", webhooks.TypeMessageStatusUpdate),
		webhooks.OnEvent(func(ctx context.Context, e webhooks.Event) error {
			types = append(types, webhooks.OrgFromContext(ctx)+" "+string(e.Type()))
			return nil
		}))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /hooks/{org}", h)
	mux.Handle("POST /hooks/{org}/status", h)

	payload, err := webhookstest.Payload(webhooks.TypeMessageStatusUpdate, time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	for _, c := range []struct {
		org    string
		format webhooks.BodyFormat
		path   string
		want   int
	}{
		{"json", webhooks.BodyJSON, "/hooks/json/status", 200},
		{"form", webhooks.BodyFormData, "/hooks/form/status", 200},
		{"form", webhooks.BodyJSON, "/hooks/form/status", 415},
		{"json", webhooks.BodyFormData, "/hooks/json/status", 415},
		{"json", webhooks.BodyJSON, "/hooks/json", 200},
	} {
		body, ct, err := webhookstest.Encode(c.format, payload)
		require.NoError(t, err)
		r, err := webhookstest.NewRequest("http://127.0.0.1"+c.path, body, webhookstest.HMAC("X-Signature", webhooks.Hex, []byte(orgSecret(c.org))))
		require.NoError(t, err)
		r.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		assert.Equal(t, c.want, rec.Code, "%+v", c)
	}
	assert.Equal(t, []string{"json MESSAGE_STATUS_UPDATE", "form MESSAGE_STATUS_UPDATE", "json "}, types,
		"the pattern's path types a body that names none; the bare path gives no type")
}

func TestOrgHandlerLogsNameTheOrganisation(t *testing.T) {
	orgs, ids := newOrgs(t, 2)
	var logs strings.Builder
	h, err := webhooks.NewOrgHandler(orgs, webhooks.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		webhooks.OnEvent(func(context.Context, webhooks.Event) error { return errors.New("crm down") }))
	require.NoError(t, err)
	for _, signer := range []webhookstest.Signer{orgSigner(0, ids[0]), orgSigner(1, ids[1])} {
		r, err := webhookstest.NewRequest("http://127.0.0.1/hooks/"+ids[1], groupCreated("g"), signer)
		require.NoError(t, err)
		r.SetPathValue("org", ids[1])
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	assert.Contains(t, logs.String(), `msg="webhook refused" org=org-001 status=401`)
	assert.Contains(t, logs.String(), `msg="webhook callback failed" org=org-001 type=GROUP_CREATED`)
}
