package open311

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
)

// The IOC statuses of a report (written by the feedback module) and the
// one a new report starts in.
const (
	StatusReceived   = "received"
	StatusAssigned   = "assigned"
	StatusInProgress = "in_progress"
	StatusResolved   = "resolved"
	StatusRejected   = "rejected"
)

// reportProps are the properties of a new report on feedback.reports.
type reportProps struct {
	Category    string         `json:"category"`
	ServiceCode string         `json:"serviceCode"`
	Status      string         `json:"status"`
	Channel     string         `json:"channel"`
	Description string         `json:"description,omitempty"`
	MediaURL    string         `json:"mediaURL,omitempty"`
	Address     string         `json:"address,omitempty"`
	AddressID   string         `json:"addressId,omitempty"`
	Attributes  map[string]any `json:"attributes,omitempty"`
	DateCreated string         `json:"dateCreated"`
	Contact     *Contact       `json:"contact,omitempty"`
}

type postResponse struct {
	ServiceRequestID string  `json:"service_request_id"`
	ServiceNotice    string  `json:"service_notice"`
	AccountID        *string `json:"account_id"`
}

// postRequest answers POST requests.json: the form becomes a report event
// that goes through the intake like every other source's.
func (a *API) postRequest(w http.ResponseWriter, r *http.Request) int {
	if code, ok := checkFormat(w, chi.URLParam(r, "format")); !ok {
		return code
	}
	if a.intake == nil {
		return writeErrors(w, http.StatusServiceUnavailable, "creating service requests is not enabled on this server")
	}
	v, ferr := readForm(w, r, a.cfg.MaxBody)
	if ferr != nil {
		return writeErrors(w, ferr.status, ferr.msg)
	}
	rep, errs := a.parseReport(v)
	if errs != nil {
		return writeJSON(w, errorStatus(errs), errs)
	}
	now := a.cfg.Now().In(a.cfg.Zone)
	id, err := a.newID(now)
	if err != nil {
		a.log.Error("open311: no service_request_id", "err", err)
		return writeErrors(w, http.StatusInternalServerError, "no service_request_id could be made: "+err.Error())
	}
	ev := a.event(rep, id, now)
	b, err := a.intake.SubmitEvents(r.Context(), []layers.Event{ev})
	if err != nil {
		a.log.Warn("open311: publish failed, nothing applied", "id", id, "err", err)
		w.Header().Set("Retry-After", "1")
		return writeErrors(w, http.StatusServiceUnavailable, "the report could not be delivered to the IOC and was not saved: retry later")
	}
	if len(b.Rejected) > 0 {
		return writeErrors(w, http.StatusBadRequest, "the report was refused: "+b.Rejected[0].Error)
	}
	en := english(r)
	resp := postResponse{ServiceRequestID: id, ServiceNotice: rep.Service.notice(en)}
	if rep.Contact.AccountID != "" {
		resp.AccountID = &rep.Contact.AccountID
	}
	return writeJSON(w, http.StatusOK, []postResponse{resp})
}

// errorStatus is 404 when every error is an unknown resource, else 400.
func errorStatus(errs []SpecError) int {
	for _, e := range errs {
		if e.Code != http.StatusNotFound {
			return http.StatusBadRequest
		}
	}
	return http.StatusNotFound
}

// newID draws ids until one is valid and not in the layer yet.
func (a *API) newID(now time.Time) (string, error) {
	l := a.layer()
	for range 5 {
		id := a.cfg.NewID(now)
		if id == "" || len(id) > 256 || checkText(id, false) != "" || strings.ContainsAny(id, "/") {
			return "", fmt.Errorf("the id generator returned %s: an id must be 1-256 bytes of text without '/'", quote(id))
		}
		if l == nil || l.Get(id) == nil {
			return id, nil
		}
	}
	return "", errors.New("the id generator returned ids already in use 5 times in a row")
}

// event builds the report's event: a Point at [long, lat], observed now.
func (a *API) event(rep *Report, id string, now time.Time) layers.Event {
	props := reportProps{
		Category:    rep.Service.Category,
		ServiceCode: rep.Service.Code,
		Status:      StatusReceived,
		Channel:     Channel,
		Description: rep.Description,
		MediaURL:    rep.MediaURL,
		Address:     rep.AddressString,
		AddressID:   rep.AddressID,
		Attributes:  rep.Attributes,
		DateCreated: now.Format(time.RFC3339),
	}
	if a.cfg.KeepContact && rep.Contact != (Contact{}) {
		props.Contact = &rep.Contact
	}
	raw, err := json.Marshal(props)
	if err != nil { // cannot happen: strings and string slices only
		raw = nil
	}
	return layers.Event{
		Layer:      a.cfg.Layer,
		ID:         id,
		Op:         layers.OpUpsert,
		Time:       now.UTC(),
		Geometry:   geom.NewPointFlat(geom.XY, []float64{rep.Long, rep.Lat}),
		Properties: raw,
	}
}
