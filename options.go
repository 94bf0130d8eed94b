package doubletick

import (
	"errors"
	"fmt"
	"golang.org/x/time/rate"
	"log/slog"
	"net/http"
	"time"
)

// Option configures a [Client]. Options are applied in order by [NewClient],
// which returns the first error an option reports.
type Option func(*settings) error

// settings collects what the options ask for before the Client is built.
type settings struct {
	baseURL         string
	allowInsecure   bool
	httpClient      *http.Client
	timeout         time.Duration
	timeoutSet      bool
	authScheme      string
	userAgentSuffix string
	authHeaders     []string
	requestIDHeader string
	logger          *slog.Logger
	limits          PathLimiterConfig
	limiter         Limiter
	maxAttempts     int
	backoff         Backoff
	retryPolicy     RetryPolicy
	maxRetryAfter   time.Duration
	retryAnyMethod  bool
	observer        CallObserver
}

// WithBaseURL sets the API's base URL, for example a proxy or a test server.
// It must be an absolute https URL; plain http is accepted only for a
// loopback host (127.0.0.0/8, ::1, localhost) unless [WithInsecureHTTP] is
// also given. A path prefix is kept: requests go to base + route.
func WithBaseURL(rawURL string) Option {
	return func(s *settings) error {
		s.baseURL = rawURL
		return nil
	}
}

// WithInsecureHTTP allows a plain-http base URL on any host. The API key then
// crosses the network in clear text: use it only on networks you trust.
func WithInsecureHTTP() Option {
	return func(s *settings) error {
		s.allowInsecure = true
		return nil
	}
}

// WithHTTPClient sets the HTTP client requests are sent through, so that you
// can bring your own transport, proxy or tracing. The Client uses a copy,
// and your client is never modified; but each request goes through the
// Transport your client has at that moment, so a transport installed later
// (httpmock.ActivateNonDefault(hc), say) is used.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) error {
		if hc == nil {
			return errors.New("doubletick: WithHTTPClient: nil *http.Client")
		}
		s.httpClient = hc
		return nil
	}
}

// DefaultTimeout bounds each HTTP attempt, from sending the request to
// reading the whole response, unless [WithTimeout] says otherwise: without
// it, a server that trickles its headers would hold a call with no deadline
// for ever. The context bounds the whole call, retries included.
const DefaultTimeout = 30 * time.Second

// WithTimeout bounds each HTTP attempt, including reading the response
// (http.Client.Timeout on the Client's copy); the default is
// [DefaultTimeout], or the Timeout of the client given to [WithHTTPClient]
// when it has one. Zero means no per-attempt timeout beyond the context's.
// A context deadline also bounds every call.
func WithTimeout(d time.Duration) Option {
	return func(s *settings) error {
		if d < 0 {
			return fmt.Errorf("doubletick: WithTimeout: negative timeout %s", d)
		}
		s.timeout, s.timeoutSet = d, true
		return nil
	}
}

// WithUserAgent appends suffix to the User-Agent header, e.g. "my-crm/2.3".
// It must be printable ASCII of at most 128 characters.
func WithUserAgent(suffix string) Option {
	return func(s *settings) error {
		if len(suffix) > 128 {
			return errors.New("doubletick: WithUserAgent: suffix longer than 128 characters")
		}
		for i := 0; i < len(suffix); i++ {
			if suffix[i] < 0x20 || suffix[i] > 0x7e {
				return fmt.Errorf("doubletick: WithUserAgent: suffix has a non-printable byte at offset %d", i)
			}
		}
		s.userAgentSuffix = suffix
		return nil
	}
}

// WithAuthHeader sends the API key in exactly one header, the named one, as
// the raw key with no scheme word. Use [HeaderAuthorization] or
// [HeaderPublicAPIKey] once you know which one your account's API reads; by
// default the key goes in both (see [HeaderAuthorization]).
func WithAuthHeader(name string) Option {
	return func(s *settings) error {
		if !validHeaderName(name) {
			return errors.New("doubletick: WithAuthHeader: not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)")
		}
		s.authHeaders = []string{http.CanonicalHeaderKey(name)}
		return nil
	}
}

// WithAuthorizationScheme sends the Authorization header as
// "<scheme> <key>", as DoubleTick's Node and PHP samples write it ("key
// <apiKey>"), instead of the raw key its curl samples and OpenAPI pages
// show. Other headers still carry the raw key.
func WithAuthorizationScheme(scheme string) Option {
	return func(s *settings) error {
		if !validHeaderName(scheme) {
			return errors.New("doubletick: WithAuthorizationScheme: the scheme must be one token (letters, digits and !#$%&'*+-.^_`|~ only)")
		}
		s.authScheme = scheme
		return nil
	}
}

// WithRequestIDHeader names the response header read into
// [Response.RequestID] and [APIError.RequestID].
func WithRequestIDHeader(name string) Option {
	return func(s *settings) error {
		if !validHeaderName(name) {
			return errors.New("doubletick: WithRequestIDHeader: not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)")
		}
		s.requestIDHeader = http.CanonicalHeaderKey(name)
		return nil
	}
}

// WithLogger sets the logger the Client writes one Debug record to per HTTP
// attempt (method, route, status, duration, request ID). By default nothing
// is logged. Records never contain the API key.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		if l == nil {
			return errors.New("doubletick: WithLogger: nil *slog.Logger")
		}
		s.logger = l
		return nil
	}
}

// WithRateLimit sets the client-side limit of every route that has no limit
// of its own (see [DefaultRateLimit]). Each route has its own bucket.
func WithRateLimit(l RateLimit) Option {
	return func(s *settings) error {
		if err := checkRateLimit("WithRateLimit", l); err != nil {
			return err
		}
		s.limits.Default = l
		return nil
	}
}

// WithPathRateLimit sets the client-side limit of one route, keyed like
// [RouteCreateGroup]: the method, a space, and the path.
func WithPathRateLimit(route string, l RateLimit) Option {
	return func(s *settings) error {
		if err := checkRouteKey(route); err != nil {
			return err
		}
		if err := checkRateLimit(route, l); err != nil {
			return err
		}
		if s.limits.Routes == nil {
			s.limits.Routes = make(map[string]RateLimit)
		}
		s.limits.Routes[route] = l
		return nil
	}
}

// WithoutRateLimit turns off the client-side limit of every route, including
// those set before it by [WithPathRateLimit]. A 429 with Retry-After still
// pauses its route for all of the Client's callers.
func WithoutRateLimit() Option {
	return func(s *settings) error {
		s.limits = PathLimiterConfig{Default: RateLimit{Rate: rate.Inf}}
		return nil
	}
}

// WithLimiter replaces the Client's [PathLimiter] by l, for example one shared
// by every replica of a service. The rate-limit options then have no effect.
func WithLimiter(l Limiter) Option {
	return func(s *settings) error {
		if l == nil {
			return errors.New("doubletick: WithLimiter: nil Limiter")
		}
		s.limiter = l
		return nil
	}
}

// WithMaxAttempts bounds the attempts of one call, the first included
// (default [DefaultMaxAttempts]). 1 turns retries off.
func WithMaxAttempts(n int) Option {
	return func(s *settings) error {
		if n < 1 {
			return fmt.Errorf("doubletick: WithMaxAttempts: need at least 1 attempt, got %d", n)
		}
		s.maxAttempts = n
		return nil
	}
}

// WithBackoff sets how long to wait before a retry when the server did not
// say (default: [ExponentialBackoff] from [DefaultBackoffBase] to
// [DefaultBackoffMax]).
func WithBackoff(b Backoff) Option {
	return func(s *settings) error {
		if b == nil {
			return errors.New("doubletick: WithBackoff: nil Backoff")
		}
		s.backoff = b
		return nil
	}
}

// WithRetryPolicy sets which failures are retried (default
// [DefaultRetryPolicy]).
func WithRetryPolicy(p RetryPolicy) Option {
	return func(s *settings) error {
		if p == nil {
			return errors.New("doubletick: WithRetryPolicy: nil RetryPolicy")
		}
		s.retryPolicy = p
		return nil
	}
}

// WithMaxRetryAfter bounds how long the Client waits when the server asks for
// it with Retry-After (default [DefaultMaxRetryAfter]). An answer asking for
// longer is returned as the call's error at once, instead of a hung call; its
// route stays paused for at most d.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(s *settings) error {
		if d <= 0 {
			return fmt.Errorf("doubletick: WithMaxRetryAfter: need a positive duration, got %s", d)
		}
		s.maxRetryAfter = d
		return nil
	}
}

// WithRetryNonIdempotent lets [DefaultRetryPolicy] retry POST calls, Create
// among them, after failures that leave their outcome unknown: a timeout or a
// broken connection after the request was sent, or a 5xx. DoubleTick
// documents no idempotency key, so such a retry can create a group twice; opt
// in only if you can detect and remove a duplicate (set GroupID yourself).
func WithRetryNonIdempotent() Option {
	return func(s *settings) error {
		s.retryAnyMethod = true
		return nil
	}
}
