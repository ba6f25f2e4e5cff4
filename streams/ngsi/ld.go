package ngsi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/danang-ioc/ioc/streams"
)

// Problem is an NGSI-LD error body (RFC 7807 ProblemDetails), with the
// IOC's stable rejection reason as an extension member.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// ErrorTypeBase prefixes the NGSI-LD error types.
const ErrorTypeBase = "https://uri.etsi.org/ngsi-ld/errors/"

// problemOf describes a refused entity.
func problemOf(err *streams.EventError) Problem {
	p := Problem{Type: ErrorTypeBase + "BadRequestData", Title: "Bad request data", Detail: err.Error(), Reason: string(err.Reason)}
	switch err.Reason {
	case ReasonUnsupportedType:
		p.Type, p.Title = ErrorTypeBase+"OperationNotSupported", "Entity type not supported"
	case ReasonUnknownEntity:
		p.Type, p.Title = ErrorTypeBase+"ResourceNotFound", "Entity not found"
	}
	return p
}

func requestProblem(e *reqError) Problem {
	t := "InvalidRequest"
	switch e.status {
	case http.StatusNotFound:
		t = "ResourceNotFound"
	case http.StatusServiceUnavailable, http.StatusInternalServerError:
		t = "InternalError"
	}
	return Problem{Type: ErrorTypeBase + t, Title: e.title, Detail: e.msg}
}

// writeProblem answers with a ProblemDetails body: application/json, or
// application/problem+json when the client asks for it.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, p Problem) int {
	ct := "application/json"
	if strings.Contains(r.Header.Get("Accept"), "application/problem+json") {
		ct = "application/problem+json"
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, ct, p)
	return status
}

func (a *Adapter) ldRefuse(w http.ResponseWriter, r *http.Request, e *reqError) int {
	a.log.Debug("ngsi-ld: request refused", "path", r.URL.Path, "status", e.status, "msg", e.msg, "remote", r.RemoteAddr)
	return writeProblem(w, r, e.status, requestProblem(e))
}

// handle wraps a handler that returns its status, counting requests and
// turning a panic into a 500 rather than a dropped connection.
func (a *Adapter) handle(endpoint string, h func(http.ResponseWriter, *http.Request) int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				a.log.Error("ngsi: handler panic", "endpoint", endpoint, "panic", p)
				a.m.request(endpoint, http.StatusInternalServerError)
				writeProblem(w, r, http.StatusInternalServerError, Problem{Type: ErrorTypeBase + "InternalError", Title: "Internal error"})
			}
		}()
		a.m.request(endpoint, h(w, r))
	}
}

func (a *Adapter) ldOptions(r *http.Request) parseOptions {
	return parseOptions{keyValues: options(r)["keyValues"], feature: true}
}

// ldCreate serves POST /ngsi-ld/v1/entities. The IOC keeps no entity
// store of its own, so create is an upsert: an entity it has seen is
// replaced, never refused with 409.
func (a *Adapter) ldCreate(w http.ResponseWriter, r *http.Request) int {
	body, rerr := a.read(w, r, ldMedia)
	if rerr != nil {
		return a.ldRefuse(w, r, rerr)
	}
	if body[0] == '[' {
		return a.ldRefuse(w, r, badRequest("send one entity object here; arrays of entities go to POST %s", LDUpsertPath))
	}
	d := a.newDecoder(false, a.ldOptions(r))
	one, _ := d.full(body)
	res := []result{one}
	if err := a.submit(r.Context(), "ld", res); err != nil {
		return a.ldRefuse(w, r, a.busFailure(r, err))
	}
	if err := res[0].err; err != nil {
		return writeProblem(w, r, statusOf(err.Reason), problemOf(err))
	}
	w.Header().Set("Location", LDEntitiesPath+"/"+url.PathEscape(res[0].id))
	w.WriteHeader(http.StatusCreated)
	return http.StatusCreated
}

// BatchResult is the body of a 207 answer to a batch upsert.
type BatchResult struct {
	Success []string     `json:"success"`
	Errors  []BatchError `json:"errors"`
}

// BatchError is one refused entity of a batch.
type BatchError struct {
	EntityID string  `json:"entityId"`
	Error    Problem `json:"error"`
}

// ldUpsert serves POST /ngsi-ld/v1/entityOperations/upsert: an array of
// entities, each replacing what was known of it, or, with
// ?options=update, merged into it.
func (a *Adapter) ldUpsert(w http.ResponseWriter, r *http.Request) int {
	body, rerr := a.read(w, r, ldMedia)
	if rerr != nil {
		return a.ldRefuse(w, r, rerr)
	}
	opts := options(r)
	d := a.newDecoder(false, a.ldOptions(r))
	var res []result
	rerr = a.each(body, "the upsert body", func(b []byte) int {
		if opts["update"] {
			one, n := d.update(b)
			res = append(res, one)
			return n
		}
		one, n := d.full(b)
		res = append(res, one)
		return n
	})
	if rerr != nil {
		return a.ldRefuse(w, r, rerr)
	}
	if err := a.submit(r.Context(), "ld", res); err != nil {
		return a.ldRefuse(w, r, a.busFailure(r, err))
	}
	out := BatchResult{Success: []string{}, Errors: []BatchError{}}
	for i := range res {
		if res[i].err != nil {
			out.Errors = append(out.Errors, BatchError{EntityID: res[i].id, Error: problemOf(res[i].err)})
		} else {
			out.Success = append(out.Success, res[i].id)
		}
	}
	if len(out.Errors) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	}
	writeJSON(w, http.StatusMultiStatus, "application/json", out)
	return http.StatusMultiStatus
}

// update decodes the entity at the start of b and merges it into its last
// known state; it also returns the offset after the entity.
func (d *decoder) update(b []byte) (result, int) {
	opt := d.opt
	opt.fragment = true
	e, n, err := d.parse(b, opt)
	if err != nil {
		return failed(e.id, err), n
	}
	return d.merge(e.id, e), n
}

// UpdateResult is the body of a 207 answer to a partial update.
type UpdateResult struct {
	Updated    []string     `json:"updated"`
	NotUpdated []NotUpdated `json:"notUpdated"`
}

// NotUpdated is one attribute a partial update could not apply; Reason
// starts with the stable reason code.
type NotUpdated struct {
	AttributeName string `json:"attributeName"`
	Reason        string `json:"reason"`
}

// ldPatch serves PATCH (and POST) /ngsi-ld/v1/entities/{id}/attrs: the
// fragment's attributes are merged into the entity's last known state,
// which keeps its location when the fragment has none. Attributes that
// cannot be used are reported (207) while the others are applied.
func (a *Adapter) ldPatch(w http.ResponseWriter, r *http.Request) int {
	id := entityID(r)
	body, rerr := a.read(w, r, patchMedia)
	if rerr != nil {
		return a.ldRefuse(w, r, rerr)
	}
	if body[0] != '{' {
		return a.ldRefuse(w, r, badRequest("the body must be a JSON object of attributes, found %s", kindOf(body)))
	}
	if err := checkID(id); err != nil {
		return a.ldRefuse(w, r, badRequest("the entity id in the path: %s", err.Msg))
	}
	opt := a.ldOptions(r)
	opt.fragment, opt.noID, opt.feature = true, true, false
	d := a.newDecoder(false, opt)
	d.partial = true
	var res []result
	if frag, _, err := d.parse(body, opt); err != nil {
		res = []result{failed(id, err)}
	} else {
		res = []result{d.merge(id, frag)}
	}
	if err := a.submit(r.Context(), "ld", res); err != nil {
		return a.ldRefuse(w, r, a.busFailure(r, err))
	}
	if err := res[0].err; err != nil {
		return writeProblem(w, r, statusOf(err.Reason), problemOf(err))
	}
	if len(res[0].notUpdated) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	}
	out := UpdateResult{Updated: res[0].updated, NotUpdated: []NotUpdated{}}
	if out.Updated == nil {
		out.Updated = []string{}
	}
	for _, f := range res[0].notUpdated {
		out.NotUpdated = append(out.NotUpdated, NotUpdated{AttributeName: f.name, Reason: string(f.err.Reason) + ": " + f.err.Error()})
	}
	writeJSON(w, http.StatusMultiStatus, "application/json", out)
	return http.StatusMultiStatus
}

// ldDelete serves DELETE /ngsi-ld/v1/entities/{id}: the entity leaves its
// layer (the one it was last seen in; for an entity the IOC does not
// remember, every layer of the type named by ?type= or by its URN).
func (a *Adapter) ldDelete(w http.ResponseWriter, r *http.Request) int {
	id := entityID(r)
	if err := checkID(id); err != nil {
		return a.ldRefuse(w, r, badRequest("the entity id in the path: %s", err.Msg))
	}
	d := a.newDecoder(false, parseOptions{})
	res := []result{d.remove(id, r.URL.Query().Get("type"))}
	if err := a.submit(r.Context(), "ld", res); err != nil {
		return a.ldRefuse(w, r, a.busFailure(r, err))
	}
	if err := res[0].err; err != nil {
		return writeProblem(w, r, statusOf(err.Reason), problemOf(err))
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}
