package doubleticktest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/doubletick-go/doubletick/internal/pause"
)

// faults are the failures a test has asked the fake to inject.
type faults struct {
	failNext   int
	failStatus int
	dropNext   int
	latency    time.Duration
}

// FailNext makes the next n API requests fail with status, before the key
// is even checked. A 429 or 503 carries Retry-After: 1.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.failNext, s.faults.failStatus = n, status
}

// DropNext makes the fake close the connection of the next n API requests
// without answering, after reading them.
func (s *Server) DropNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.dropNext = n
}

// SetLatency delays every later API answer by d (0 to stop).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.latency = d
}

// inject applies the requested faults, then hands the request on.
func (s *Server) inject(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		f := s.faults
		drop, fail := f.dropNext > 0, !(f.dropNext > 0) && f.failNext > 0
		if drop {
			s.faults.dropNext--
		} else if fail {
			s.faults.failNext--
		}
		s.mu.Unlock()

		if pause.Sleep(r.Context(), f.latency) != nil {
			return
		}
		switch {
		case drop:
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
		case fail:
			if f.failStatus == http.StatusTooManyRequests || f.failStatus == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "1")
			}
			writeError(w, f.failStatus, fmt.Sprintf("Injected failure (%d)", f.failStatus))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// window is a fixed-window request counter of one route.
type window struct {
	limit int
	size  time.Duration
	start time.Time
	count int
}

// WithServerRateLimit limits a route, keyed like doubletick.RouteCreateGroup, to
// limit requests per fixed window, answering 429 with Retry-After (the
// seconds left in the window) past that. DoubleTick documents path-based
// limits but not their numbers or headers; by default the fake limits
// nothing. limit is at least 1 and per more than 0.
func WithServerRateLimit(route string, limit int, per time.Duration) Option {
	return func(s *Server) {
		method, path, ok := strings.Cut(route, " ")
		if !ok || method == "" || !strings.HasPrefix(path, "/") || limit < 1 || per <= 0 {
			s.refuse("WithServerRateLimit(%q, %d, %v): a route key (method, space, path), at least 1 request, a window of more than 0", route, limit, per)
		}
		s.limits[route] = &window{limit: limit, size: per}
	}
}

// rateLimit answers 429 to requests over their route's window.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		win := s.limits[r.Method+" "+r.URL.Path]
		var wait time.Duration
		if win != nil {
			now := s.now()
			if now.Sub(win.start) >= win.size {
				win.start, win.count = now, 0
			}
			win.count++
			if win.count > win.limit {
				wait = win.size - now.Sub(win.start)
			}
		}
		s.mu.Unlock()
		if wait > 0 {
			secs := int((wait + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, http.StatusTooManyRequests, "Too many requests, please try again later.")
			return
		}
		next.ServeHTTP(w, r)
	})
}
