package open311

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// formError refuses a POST as a whole, before its fields are looked at.
type formError struct {
	status int
	msg    string
}

const formTypes = "application/x-www-form-urlencoded (or multipart/form-data without files)"

// readForm reads a POST body within maxBody and decodes it as a form.
func readForm(w http.ResponseWriter, r *http.Request, maxBody int64) (url.Values, *formError) {
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, &formError{http.StatusUnsupportedMediaType,
			fmt.Sprintf("Content-Encoding %s is not supported: send the form uncompressed", quote(ce))}
	}
	tooLarge := &formError{http.StatusRequestEntityTooLarge,
		fmt.Sprintf("the body is larger than %d bytes: send photos as a media_url, not in the form", maxBody)}
	if r.ContentLength > maxBody {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge
	case err != nil:
		return nil, &formError{http.StatusBadRequest, "reading the body failed: " + err.Error()}
	}
	return decodeForm(r.Header.Get("Content-Type"), body)
}

// decodeForm decodes a POST requests.json body of the given Content-Type.
// It never panics; a body it cannot decode is refused with an HTTP status
// and a message saying why.
func decodeForm(contentType string, body []byte) (url.Values, *formError) {
	if contentType == "" {
		return nil, &formError{http.StatusUnsupportedMediaType,
			"the Content-Type header is missing: Open311 takes " + formTypes}
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, &formError{http.StatusUnsupportedMediaType,
			fmt.Sprintf("Content-Type %s cannot be parsed: Open311 takes %s", quote(contentType), formTypes)}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return nil, &formError{http.StatusUnsupportedMediaType,
			fmt.Sprintf("charset %s is not supported: send the form in UTF-8", quote(cs))}
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, &formError{http.StatusBadRequest, "the body is not a valid URL-encoded form: " + err.Error()}
		}
		return v, nil
	case "multipart/form-data":
		return decodeMultipart(body, params["boundary"])
	case "application/json", "application/geo+json", "text/json":
		return nil, &formError{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %s is not supported: "+
			"Open311 GeoReport v2 sends service requests as a form, %s, e.g. service_code=pothole&lat=16.0678&long=108.2208 "+
			"(JSON goes to POST /api/v1/events)", mt, formTypes)}
	}
	return nil, &formError{http.StatusUnsupportedMediaType,
		fmt.Sprintf("Content-Type %s is not supported: Open311 takes %s", quote(mt), formTypes)}
}

// decodeMultipart reads the fields of a multipart/form-data body. Files
// are refused: the IOC keeps no uploads, photos travel as media_url.
func decodeMultipart(body []byte, boundary string) (url.Values, *formError) {
	if boundary == "" {
		return nil, &formError{http.StatusBadRequest, "multipart/form-data without a boundary parameter"}
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	v := url.Values{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return v, nil
		}
		if err != nil {
			return nil, &formError{http.StatusBadRequest, "the body is not valid multipart/form-data: " + err.Error()}
		}
		name := p.FormName()
		if p.FileName() != "" {
			return nil, &formError{http.StatusBadRequest, fmt.Sprintf("field %s is a file: uploads are not supported, "+
				"put the photo online and send its address as media_url", quote(name))}
		}
		val, err := io.ReadAll(p)
		if err != nil {
			return nil, &formError{http.StatusBadRequest, "the body is not valid multipart/form-data: " + err.Error()}
		}
		if name != "" {
			v[name] = append(v[name], string(val))
		}
	}
}
