package open311

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/danang-ioc/ioc/geo"
)

// The FIWARE Smart Data Models examples (testdata/README.md) carry the
// Open311 field names: a service type and a service request of
// Guadalajara and Madrid. They go through this API as an Open311 client
// would send them.

type sdmService struct {
	ServiceCode string `json:"service_code"`
	ServiceName string `json:"service_name"`
	Description string `json:"description"`
	Keywords    string `json:"keywords"`
	Group       string `json:"group"`
	Type        string `json:"open311:type"`
}

type sdmRequest struct {
	ServiceRequestID string `json:"service_request_id"`
	ServiceCode      string `json:"service_code"`
	Description      string `json:"description"`
	AddressString    string `json:"address_string"`
	MediaURL         string `json:"media_url"`
	Location         struct {
		Coordinates []float64 `json:"coordinates"`
	} `json:"location"`
}

func TestSmartDataModelsExamples(t *testing.T) {
	var svc sdmService
	if err := json.Unmarshal([]byte(readTestdata(t, "smart-data-models/services-example.json")), &svc); err != nil {
		t.Fatal(err)
	}
	var req sdmRequest
	raw := readTestdata(t, "smart-data-models/service_requests-example.json")
	if err := json.Unmarshal([]byte(raw), &req); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *Config) {
		c.Services = []Service{{Code: svc.ServiceCode, Name: svc.ServiceName, Description: svc.Description,
			Keywords: svc.Keywords, Group: svc.Group}}
		c.Area = geo.World // Madrid
	})
	var list []serviceJSON
	mustJSON(t, e.get(BasePath+"/services.json").Body.Bytes(), &list)
	if len(list) != 1 || list[0] != (serviceJSON{ServiceCode: "234", ServiceName: "Aceras", Description: svc.Description,
		Type: svc.Type, Keywords: "street,sidewalk, cleaning, repair", Group: "street"}) {
		t.Errorf("service list %+v", list)
	}

	// GeoJSON [long, lat] becomes the spec's separate lat and long.
	long, lat := req.Location.Coordinates[0], req.Location.Coordinates[1]
	form := url.Values{"service_code": {req.ServiceCode}, "lat": {strconv.FormatFloat(lat, 'g', -1, 64)},
		"long": {strconv.FormatFloat(long, 'g', -1, 64)}, "address_string": {req.AddressString},
		"description": {req.Description}, "media_url": {req.MediaURL}}
	id := e.postID(form.Encode())
	got := requests(t, e.get(BasePath+"/requests/"+id+".json"))[0]
	if got.ServiceCode != "234" || val(got.ServiceName) != "Aceras" || val(got.Description) != req.Description ||
		val(got.Address) != req.AddressString || val(got.MediaURL) != req.MediaURL || got.Lat != lat || got.Long != long ||
		got.Status != "open" {
		t.Errorf("request read back: %+v", got)
	}

	// Every Open311 member of the FIWARE request is a member of our answer
	// (address_string is the POST name of the answer's address; location
	// is lat and long; attributes are kept on the layer, not answered).
	var fiware map[string]any
	if err := json.Unmarshal([]byte(raw), &fiware); err != nil {
		t.Fatal(err)
	}
	var ours []map[string]any
	mustJSON(t, e.get(BasePath+"/requests/"+id+".json").Body.Bytes(), &ours)
	for k := range fiware {
		switch k {
		case "id", "type", "location", "attributes", "address_string":
			continue
		}
		if _, ok := ours[0][k]; !ok {
			t.Errorf("member %s of the FIWARE service_requests example is missing from GET requests", k)
		}
	}
	if !strings.Contains(string(e.events()[0].Properties), `"serviceCode":"234"`) {
		t.Errorf("properties %s", e.events()[0].Properties)
	}
}
