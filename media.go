package doubletick

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"path/filepath"
	"strings"
)

// ErrMediaTooLarge is the error of an upload whose body turned out longer
// than [MaxMediaUploadBytes] while it was being sent.
var ErrMediaTooLarge = errors.New("doubletick: media larger than the upload limit")

// MediaFile is a file to upload.
type MediaFile struct {
	// Name is the file's name, e.g. "invoice.pdf". Required.
	Name string
	// ContentType is its MIME type; when empty it is guessed from Name's
	// extension, or application/octet-stream.
	ContentType string
	// Size is its length in bytes when known (0: unknown). A size over
	// MaxMediaUploadBytes is refused before anything is sent, and a known
	// size is sent as the Content-Length; a body that runs past its Size,
	// or past the limit when Size is unknown, is cut off with an error
	// (ErrMediaTooLarge for the limit).
	Size int64
	// Body is read once, as it is sent: the file is streamed, never held in
	// memory. When it is an io.Seeker, the upload may be retried (after a
	// 429, say) by seeking back to where it started.
	Body io.Reader
}

// Validate checks f against the documented rules; see
// [TextMessage.Validate].
func (f *MediaFile) Validate() error { return validate("MediaFile", f.check) }

func (f *MediaFile) check(v *validator) {
	if !v.present(f == nil) {
		return
	}
	v.text("file.name", f.Name, true, 0)
	if f.Body == nil {
		v.add("file.body", RuleRequired, "is required")
	}
	if f.Size < 0 || f.Size > MaxMediaUploadBytes {
		v.add("file.size", RuleLength, "must be at most %d bytes, got %d", MaxMediaUploadBytes, f.Size)
	}
}

// UploadResult is where an uploaded file can be fetched from, for a media
// send.
type UploadResult struct {
	// MediaURL is the file's URL.
	MediaURL string `json:"mediaUrl"`
	// ExpiresIn is how many seconds from the upload the URL works.
	ExpiresIn int `json:"expiresIn"`
}

// UploadMedia uploads a file as multipart/form-data (field "file") and
// returns its URL, for SendImage, SendVideo, SendAudio and SendDocument.
//
// DoubleTick API docs: https://docs.doubletick.io/reference/upload-media
func (s *MessagesService) UploadMedia(ctx context.Context, f *MediaFile) (*UploadResult, *Response, error) {
	var v validator
	f.check(&v)
	if err := v.err("MessagesService.UploadMedia"); err != nil {
		return nil, nil, err
	}
	body, err := multipartBody(f)
	if err != nil {
		return nil, nil, err
	}
	return call[UploadResult](ctx, s.client, epUploadMedia, nil, body)
}

// multipartBody streams f as a multipart form of one part, "file", framed
// by hand so that no goroutine or pipe is needed and, when f.Size is known,
// the request carries a Content-Length instead of being chunked: memory
// stays the same whatever the file's size.
func multipartBody(f *MediaFile) (*bodySource, error) {
	ctype := f.ContentType
	if ctype == "" {
		ctype = mime.TypeByExtension(filepath.Ext(f.Name))
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	seeker, replayable := f.Body.(io.Seeker)
	var start int64
	if replayable {
		var err error
		if start, err = seeker.Seek(0, io.SeekCurrent); err != nil {
			replayable = false
		}
	}
	boundary := multipart.NewWriter(io.Discard).Boundary()
	name := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "").Replace(f.Name)
	ctype = strings.NewReplacer("\r", "", "\n", "").Replace(ctype)
	head := "--" + boundary + "\r\n" +
		`Content-Disposition: form-data; name="file"; filename="` + name + "\"\r\n" +
		"Content-Type: " + ctype + "\r\n\r\n"
	tail := "\r\n--" + boundary + "--\r\n"
	length := int64(-1)
	if f.Size > 0 {
		length = int64(len(head)) + f.Size + int64(len(tail))
	}
	attempts := 0
	return &bodySource{
		contentType: "multipart/form-data; boundary=" + boundary,
		length:      length,
		replayable:  replayable,
		open: func() (io.Reader, error) {
			if attempts++; attempts > 1 {
				if _, err := seeker.Seek(start, io.SeekStart); err != nil {
					return nil, fmt.Errorf("rewinding the upload: %w", err)
				}
			}
			file := &boundedReader{r: f.Body, left: MaxMediaUploadBytes, err: ErrMediaTooLarge}
			if f.Size > 0 {
				file = &boundedReader{r: f.Body, left: f.Size, err: ErrMediaSizeMismatch}
			}
			return io.MultiReader(strings.NewReader(head), file, strings.NewReader(tail)), nil
		},
	}, nil
}

// ErrMediaSizeMismatch is the error of an upload whose body runs past the
// MediaFile.Size it was given.
var ErrMediaSizeMismatch = errors.New("doubletick: media body longer than its Size")

// boundedReader reads at most left bytes of r, and fails with err when r
// has more.
type boundedReader struct {
	r    io.Reader
	left int64
	err  error
}

// Read reads from r until left runs out, then reports b.err if r has more.
func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := io.ReadFull(b.r, one[:]); n > 0 {
			return 0, b.err
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}
