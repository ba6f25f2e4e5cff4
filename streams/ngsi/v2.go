package ngsi

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/danang-ioc/ioc/streams"
)

// V2Error is an NGSI v2 error body, with the IOC's stable rejection reason
// and, for batches, the entities not applied as extension members.
type V2Error struct {
	Error       string        `json:"error"`
	Description string        `json:"description"`
	Reason      string        `json:"reason,omitempty"`
	NotApplied  []V2Rejection `json:"notApplied,omitempty"`
}

// V2Rejection is one entity of a batch or notification that was not
// applied.
type V2Rejection struct {
	Index       int    `json:"index"`
	ID          string `json:"id"`
	Reason      string `json:"reason"`
	Description string `json:"description"`
}

// NotifyResult is the body of a 200 answer to a notification some of whose
// entities were refused (204 when all were accepted).
type NotifyResult struct {
	Accepted int           `json:"accepted"`
	Rejected []V2Rejection `json:"rejected"`
}

func v2ErrorName(status int) string {
	switch status {
	case http.StatusNotFound:
		return "NotFound"
	case http.StatusRequestEntityTooLarge:
		return "RequestEntityTooLarge"
	case http.StatusUnsupportedMediaType:
		return "UnsupportedMediaType"
	case http.StatusUnprocessableEntity:
		return "Unprocessable"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	case http.StatusInternalServerError:
		return "InternalServerError"
	}
	return "BadRequest"
}

func writeV2(w http.ResponseWriter, status int, body V2Error) int {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, "application/json", body)
	return status
}

func (a *Adapter) v2Refuse(w http.ResponseWriter, r *http.Request, e *reqError) int {
	a.log.Debug("ngsi v2: request refused", "path", r.URL.Path, "status", e.status, "msg", e.msg, "remote", r.RemoteAddr)
	return writeV2(w, e.status, V2Error{Error: v2ErrorName(e.status), Description: e.msg})
}

func rejections(res []result) []V2Rejection {
	var out []V2Rejection
	for i := range res {
		if err := res[i].err; err != nil {
			out = append(out, V2Rejection{Index: i, ID: res[i].id, Reason: string(err.Reason), Description: err.Error()})
		}
	}
	return out
}

// v2Create serves POST /v2/entities (normalized, or keyValues with
// ?options=keyValues). The IOC keeps no entity store of its own, so
// create is an upsert: 201 every time, never 422 "Already Exists".
func (a *Adapter) v2Create(w http.ResponseWriter, r *http.Request) int {
	body, rerr := a.read(w, r, v2Media)
	if rerr != nil {
		return a.v2Refuse(w, r, rerr)
	}
	if body[0] != '{' {
		return a.v2Refuse(w, r, badRequest("send one entity object here; batches go to POST %s", V2UpdatePath))
	}
	d := a.newDecoder(true, parseOptions{keyValues: options(r)["keyValues"]})
	one, _ := d.full(body)
	res := []result{one}
	if err := a.submit(r.Context(), "v2", res); err != nil {
		return a.v2Refuse(w, r, a.busFailure(r, err))
	}
	if err := res[0].err; err != nil {
		status := statusOf(err.Reason)
		return writeV2(w, status, V2Error{Error: v2ErrorName(status), Description: err.Error(), Reason: string(err.Reason)})
	}
	w.Header().Set("Location", V2EntitiesPath+"/"+url.PathEscape(res[0].id)+"?type="+url.QueryEscape(res[0].state.typ))
	w.WriteHeader(http.StatusCreated)
	return http.StatusCreated
}

// v2Update serves POST /v2/op/update. append, append_strict and update
// merge each entity into its last known state (creating it when unknown);
// replace takes the entity as a whole; delete removes the entity, or only
// the attributes it lists.
func (a *Adapter) v2Update(w http.ResponseWriter, r *http.Request) int {
	body, rerr := a.read(w, r, v2Media)
	if rerr != nil {
		return a.v2Refuse(w, r, rerr)
	}
	action, entities, rerr := updateRequest(body)
	if rerr != nil {
		return a.v2Refuse(w, r, rerr)
	}
	d := a.newDecoder(true, parseOptions{keyValues: options(r)["keyValues"]})
	var res []result
	rerr = a.each(entities, "entities", func(b []byte) int {
		var one result
		var n int
		switch action {
		case "replace":
			one, n = d.full(b)
		case "delete":
			one, n = d.v2Delete(b)
		default:
			one, n = d.update(b)
		}
		res = append(res, one)
		return n
	})
	if rerr != nil {
		return a.v2Refuse(w, r, rerr)
	}
	if err := a.submit(r.Context(), "v2", res); err != nil {
		return a.v2Refuse(w, r, a.busFailure(r, err))
	}
	rej := rejections(res)
	switch {
	case len(rej) == 0:
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	case len(rej) < len(res):
		return writeV2(w, http.StatusUnprocessableEntity, V2Error{Error: "PartialUpdate",
			Description: partialText(len(rej), len(res), rej[0]), NotApplied: rej})
	}
	status := statusOf(res[rej[0].Index].err.Reason)
	return writeV2(w, status, V2Error{Error: v2ErrorName(status), Description: partialText(len(rej), len(res), rej[0]),
		Reason: rej[0].Reason, NotApplied: rej})
}

func partialText(bad, all int, first V2Rejection) string {
	return fmt.Sprintf("%d of %d entities were not applied; the first, %s: %s", bad, all, streams.Quote(first.ID), first.Description)
}

// updateRequest reads {"actionType": ..., "entities": [...]}.
func updateRequest(body []byte) (string, []byte, *reqError) {
	if body[0] != '{' {
		return "", nil, badRequest(`the body must be {"actionType": ..., "entities": [...]}, found %s`, kindOf(body))
	}
	var action, entities []byte
	m := newMembers(body)
	for k, v, ok := m.next(); ok; k, v, ok = m.next() {
		switch string(k) {
		case `"actionType"`:
			action = v
		case `"entities"`:
			entities = v
		}
	}
	act := ""
	if len(action) > 0 && action[0] == '"' {
		act = unquote(action)
	}
	switch act {
	case "append", "append_strict", "update", "replace", "delete":
	default:
		return "", nil, badRequest(`actionType must be one of "append", "append_strict", "update", "replace", "delete", found %s`, describe(action))
	}
	if entities == nil {
		return "", nil, badRequest(`the body has no "entities" array`)
	}
	return act, entities, nil
}

func describe(v []byte) string {
	if v == nil {
		return "nothing"
	}
	if v[0] == '"' {
		return streams.Quote(unquote(v))
	}
	return kindOf(v)
}

// v2Delete handles one entity of an op/update delete: with no attributes
// the entity leaves its layer; with attributes only those are removed.
func (d *decoder) v2Delete(b []byte) (result, int) {
	opt := d.opt
	opt.fragment = true
	e, n, err := d.parse(b, opt)
	if err != nil {
		return failed(e.id, err), n
	}
	var names []string
	for i := range e.attrs {
		names = append(names, string(e.attrs[i].name))
	}
	for _, f := range e.errs {
		names = append(names, f.name)
	}
	if len(names) == 0 {
		return d.remove(e.id, e.typ), n
	}
	return d.removeAttrs(e.id, names), n
}

// v2Notify serves POST /v2/notify, the target of Orion subscriptions:
// {"subscriptionId": ..., "data": [entities]}, normalized or keyValues
// (as the Ngsiv2-AttrsFormat header says). It answers 204 when every
// entity was accepted and 200 with a summary otherwise, so that Orion
// never counts a notification with bad data as a failed delivery.
func (a *Adapter) v2Notify(w http.ResponseWriter, r *http.Request) int {
	body, rerr := a.read(w, r, v2Media)
	if rerr != nil {
		return a.v2Refuse(w, r, rerr)
	}
	opt := parseOptions{keyValues: options(r)["keyValues"]}
	switch f := r.Header.Get("Ngsiv2-AttrsFormat"); f {
	case "", "normalized":
	case "keyValues":
		opt.keyValues = true
	default:
		return a.v2Refuse(w, r, badRequest("notification attrsFormat %s is not supported: subscribe with \"normalized\" or \"keyValues\"", streams.Quote(f)))
	}
	data := notificationData(body)
	if data == nil {
		return a.v2Refuse(w, r, badRequest(`the body is not a notification: want {"subscriptionId": ..., "data": [entities]}`))
	}
	d := a.newDecoder(true, opt)
	var res []result
	if rerr := a.each(data, "the notification data", func(b []byte) int {
		one, n := d.full(b)
		res = append(res, one)
		return n
	}); rerr != nil {
		return a.v2Refuse(w, r, rerr)
	}
	if err := a.submit(r.Context(), "v2", res); err != nil {
		return a.v2Refuse(w, r, a.busFailure(r, err))
	}
	rej := rejections(res)
	if len(rej) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	}
	writeJSON(w, http.StatusOK, "application/json", NotifyResult{Accepted: len(res) - len(rej), Rejected: rej})
	return http.StatusOK
}

// notificationData returns the "data" array of a notification body (NGSI
// v2, or NGSI-LD with "type": "Notification"), or nil.
func notificationData(body []byte) []byte {
	if body[0] != '{' {
		return nil
	}
	m := newMembers(body)
	for k, v, ok := m.next(); ok; k, v, ok = m.next() {
		if string(k) == `"data"` && v[0] == '[' {
			return v
		}
	}
	return nil
}
