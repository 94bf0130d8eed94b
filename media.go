package doubletick

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
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
	// MaxMediaUploadBytes is refused before anything is sent; a body that
	// grows past the limit while it is read is cut off with
	// ErrMediaTooLarge.
	Size int64
	// Body is read once, as it is sent: the file is streamed, never held in
	// memory. When it is an io.Seeker, the upload may be retried (after a
	// 429, say) by seeking back to where it started.
	Body io.Reader
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
// DoubleTick API docs: https://docs.doubletick.io/reference/uploadmedia
func (s *MessagesService) UploadMedia(ctx context.Context, f MediaFile) (*UploadResult, *Response, error) {
	var v validator
	v.text("file.name", f.Name, true, 0)
	if f.Body == nil {
		v.add("file.body", RuleRequired, "is nil")
	}
	if f.Size < 0 || f.Size > MaxMediaUploadBytes {
		v.add("file.size", RuleLength, "must be at most %d bytes, got %d", MaxMediaUploadBytes, f.Size)
	}
	if err := v.err("UploadMedia"); err != nil {
		return nil, nil, err
	}
	body, err := multipartBody(f)
	if err != nil {
		return nil, nil, err
	}
	return call[UploadResult](ctx, s.client, newEndpoint(RouteUploadMedia), nil, body)
}

// multipartBody streams f as a multipart form through a pipe: memory stays
// the same whatever the file's size.
func multipartBody(f MediaFile) (*bodySource, error) {
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
	attempts := 0
	return &bodySource{
		contentType: "multipart/form-data; boundary=" + boundary,
		replayable:  replayable,
		open: func() (io.Reader, error) {
			if attempts++; attempts > 1 {
				if _, err := seeker.Seek(start, io.SeekStart); err != nil {
					return nil, fmt.Errorf("rewinding the upload: %w", err)
				}
			}
			pr, pw := io.Pipe()
			go func() {
				mw := multipart.NewWriter(pw)
				_ = mw.SetBoundary(boundary)
				h := textproto.MIMEHeader{}
				h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
				h.Set("Content-Type", ctype)
				part, err := mw.CreatePart(h)
				if err == nil {
					var n int64
					n, err = io.Copy(part, io.LimitReader(f.Body, MaxMediaUploadBytes+1))
					if err == nil && n > MaxMediaUploadBytes {
						err = fmt.Errorf("%w: more than %d bytes", ErrMediaTooLarge, int64(MaxMediaUploadBytes))
					}
				}
				if err == nil {
					err = mw.Close()
				}
				pw.CloseWithError(err)
			}()
			return pr, nil
		},
	}, nil
}
