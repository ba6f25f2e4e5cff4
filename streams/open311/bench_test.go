package open311

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// BenchmarkDecodeForm measures decoding and validating the form with every
// field of the spec.
func BenchmarkDecodeForm(b *testing.B) {
	e := newEnv(b, nil)
	body := []byte(readTestdata(b, "post-all-fields.form"))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		v, ferr := decodeForm(formType, body)
		if ferr != nil {
			b.Fatal(ferr.msg)
		}
		if _, errs := e.api.parseReport(v); errs != nil {
			b.Fatal(errs)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}

// BenchmarkPostRequest measures the whole POST: form, event, intake and
// store.
func BenchmarkPostRequest(b *testing.B) {
	e := newEnv(b, nil)
	body := readTestdata(b, "post-all-fields.form")
	b.ReportAllocs()
	for b.Loop() {
		if rec := e.post(formType, body); rec.Code != http.StatusOK {
			b.Fatal(rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}

// BenchmarkListRequests measures GET requests.json over 10,000 reports,
// a few weeks of the city's feedback, answering the newest 1000.
func BenchmarkListRequests(b *testing.B) {
	e := newEnv(b, nil)
	for i := range 10000 {
		e.apply(fmt.Sprintf("gopy-%05d", i), t0.Add(-time.Duration(i)*time.Minute), 108.2+float64(i%100)/1000, 16.05+float64(i/100)/1000,
			`{"category":"flooded_road","channel":"app","status":"received","description":"Ngập 30 cm"}`)
	}
	b.ReportAllocs()
	for b.Loop() {
		if rec := e.get(BasePath + "/requests.json?status=open"); rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
