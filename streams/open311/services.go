package open311

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
)

// Service is one service type of the service list. Names, descriptions and
// notices come in Vietnamese and English; answers are in Vietnamese unless
// the client's Accept-Language starts with "en".
type Service struct {
	// Code is the Open311 service_code, e.g. "flooded_road".
	Code string
	// Name and NameEN are the service_name.
	Name, NameEN string
	// Description and DescriptionEN are the description.
	Description, DescriptionEN string
	// Keywords is a comma-separated list of tags.
	Keywords string
	// Group is the service's group, e.g. "flooding".
	Group string
	// Category is the report category written to feedback.reports.
	// Default Code.
	Category string
	// Notice and NoticeEN are the service_notice answered on creation and
	// shown for requests without one of their own. Default DefaultNotice.
	Notice, NoticeEN string
}

// DefaultNotice is the service_notice of services that set none.
const (
	DefaultNotice   = "Trung tâm Giám sát, điều hành đô thị thông minh (IOC) Đà Nẵng đã tiếp nhận phản ánh."
	DefaultNoticeEN = "Your report has reached the Da Nang Intelligent Operation Center (IOC)."
)

// DefaultServices is the Da Nang service list, one service per category
// of the feedback module.
func DefaultServices() []Service {
	const emergency = " Nếu có nguy hiểm đến tính mạng, hãy gọi ngay 112 (cứu nạn) hoặc 114 (cứu hỏa, cứu nạn)."
	const emergencyEN = " If lives are in danger, call 112 (search and rescue) or 114 (fire and rescue) now."
	return []Service{
		{Code: "flooded_road", Name: "Đường ngập nước", NameEN: "Flooded road",
			Description: "Đường, hẻm bị ngập; cho biết độ sâu nếu có thể.", DescriptionEN: "A street or alley under water; give the depth if you can.",
			Keywords: "ngập,lụt,flood,water,road", Group: "flooding"},
		{Code: "fallen_tree", Name: "Cây ngã, đổ", NameEN: "Fallen tree",
			Description: "Cây xanh ngã, đổ, gãy cành chắn đường hoặc nguy hiểm.", DescriptionEN: "A fallen tree or branch blocking the way or dangerous.",
			Keywords: "cây,tree,storm,bão", Group: "street"},
		{Code: "power_line_down", Name: "Đứt dây điện", NameEN: "Power line down",
			Description: "Dây điện đứt, sà thấp hoặc cột điện đổ. Không lại gần.", DescriptionEN: "A broken or sagging power line or a fallen pole. Keep away.",
			Keywords: "điện,power,electricity,line", Group: "power",
			Notice: DefaultNotice + emergency, NoticeEN: DefaultNoticeEN + emergencyEN},
		{Code: "trapped_people", Name: "Người bị mắc kẹt cần cứu hộ", NameEN: "People trapped, rescue needed",
			Description: "Người bị mắc kẹt do ngập lụt, sạt lở hoặc sự cố; cho biết số người.", DescriptionEN: "People trapped by flood, landslide or accident; say how many.",
			Keywords: "cứu hộ,cứu nạn,rescue,trapped,emergency", Group: "rescue",
			Notice: DefaultNotice + emergency, NoticeEN: DefaultNoticeEN + emergencyEN},
		{Code: "garbage", Name: "Rác thải, vệ sinh môi trường", NameEN: "Garbage and sanitation",
			Description: "Rác tồn đọng, đổ trộm, vệ sinh môi trường.", DescriptionEN: "Uncollected or dumped waste, sanitation problems.",
			Keywords: "rác,garbage,waste,sanitation", Group: "sanitation"},
		{Code: "streetlight_out", Name: "Đèn đường hỏng", NameEN: "Streetlight out",
			Description: "Đèn chiếu sáng công cộng không sáng, chập chờn hoặc sáng ban ngày.", DescriptionEN: "A public light that is off, flickering or on by day.",
			Keywords: "đèn,chiếu sáng,streetlight,lighting", Group: "lighting"},
		{Code: "traffic_signal", Name: "Đèn tín hiệu giao thông hỏng", NameEN: "Traffic signal fault",
			Description: "Đèn tín hiệu giao thông tắt, nhấp nháy hoặc sai pha.", DescriptionEN: "A traffic signal that is dark, flashing or out of phase.",
			Keywords: "đèn giao thông,traffic light,signal", Group: "traffic"},
		{Code: "pothole", Name: "Ổ gà, hư hỏng mặt đường", NameEN: "Pothole or damaged road",
			Description: "Ổ gà, sụt lún, hư hỏng mặt đường, vỉa hè.", DescriptionEN: "A pothole, subsidence or damaged road surface or pavement.",
			Keywords: "ổ gà,mặt đường,pothole,road,sidewalk", Group: "street"},
		{Code: "other", Name: "Phản ánh khác", NameEN: "Other",
			Description: "Phản ánh khác về hạ tầng, trật tự đô thị.", DescriptionEN: "Anything else about the city's infrastructure and order.",
			Keywords: "khác,other", Group: "other"},
	}
}

func (s *Service) defaults() {
	if s.Category == "" {
		s.Category = s.Code
	}
	if s.NameEN == "" {
		s.NameEN = s.Name
	}
	if s.DescriptionEN == "" {
		s.DescriptionEN = s.Description
	}
	if s.Notice == "" {
		s.Notice = DefaultNotice
	}
	if s.NoticeEN == "" {
		s.NoticeEN = DefaultNoticeEN
	}
}

func (s *Service) validate() error {
	if msg := checkCode(s.Code); msg != "" {
		return fmt.Errorf("service_code %s %s", quote(s.Code), msg)
	}
	if strings.TrimSpace(s.Name) == "" {
		return fmt.Errorf("service %s has no name", s.Code)
	}
	return nil
}

// checkCode accepts codes that need no escaping in a URL path: letters,
// digits, '_', '-' and '.', at most 64 bytes.
func checkCode(code string) string {
	if code == "" {
		return "is empty"
	}
	if len(code) > 64 {
		return "is longer than 64 bytes"
	}
	for _, r := range code {
		if !isCodeRune(r) {
			return fmt.Sprintf("has %q: only letters, digits, '_', '-' and '.' are allowed", r)
		}
	}
	return ""
}

func isCodeRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.'
}

// english reports whether the client prefers English: its first
// Accept-Language tag is en or en-*.
func english(r *http.Request) bool {
	tag, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	tag, _, _ = strings.Cut(tag, ";")
	tag = strings.ToLower(strings.TrimSpace(tag))
	return tag == "en" || strings.HasPrefix(tag, "en-")
}

func (s *Service) name(en bool) string {
	if en {
		return s.NameEN
	}
	return s.Name
}

func (s *Service) notice(en bool) string {
	if en {
		return s.NoticeEN
	}
	return s.Notice
}

type serviceJSON struct {
	ServiceCode string `json:"service_code"`
	ServiceName string `json:"service_name"`
	Description string `json:"description"`
	Metadata    bool   `json:"metadata"`
	Type        string `json:"type"`
	Keywords    string `json:"keywords"`
	Group       string `json:"group"`
}

// serviceList answers GET services.json.
func (a *API) serviceList(w http.ResponseWriter, r *http.Request) int {
	if code, ok := checkFormat(w, chi.URLParam(r, "format")); !ok {
		return code
	}
	en := english(r)
	out := make([]serviceJSON, len(a.cfg.Services))
	for i := range a.cfg.Services {
		s := &a.cfg.Services[i]
		desc := s.Description
		if en {
			desc = s.DescriptionEN
		}
		out[i] = serviceJSON{ServiceCode: s.Code, ServiceName: s.name(en), Description: desc,
			Type: "realtime", Keywords: s.Keywords, Group: s.Group}
	}
	return writeJSON(w, http.StatusOK, out)
}

// serviceDefinition answers GET services/{service_code}.json. No service
// has metadata, so a definition has no attributes.
func (a *API) serviceDefinition(w http.ResponseWriter, r *http.Request) int {
	code, format, ok := splitFile(r)
	if !ok {
		return writeErrors(w, http.StatusBadRequest, "add the format to the service_code: services/{service_code}.json")
	}
	if status, ok := checkFormat(w, format); !ok {
		return status
	}
	if a.byCode[code] == nil {
		return writeErrors(w, http.StatusNotFound, fmt.Sprintf("service_code %s is not a service of this server: %s",
			quote(code), a.codeList()))
	}
	return writeJSON(w, http.StatusOK, struct {
		ServiceCode string `json:"service_code"`
		Attributes  []any  `json:"attributes"`
	}{code, []any{}})
}

// splitFile splits the {file} path parameter, "{name}.{format}", at its
// last dot. chi matches the escaped path when the URL has one, so the name
// is unescaped then (an id may hold any character).
func splitFile(r *http.Request) (name, format string, ok bool) {
	file := chi.URLParam(r, "file")
	i := strings.LastIndexByte(file, '.')
	if i < 0 {
		return "", "", false
	}
	name, format = file[:i], file[i+1:]
	if r.URL.RawPath != "" {
		if u, err := url.PathUnescape(name); err == nil {
			name = u
		}
	}
	return name, format, true
}

// codeList names the valid service codes for error messages.
func (a *API) codeList() string {
	codes := make([]string, len(a.cfg.Services))
	for i := range a.cfg.Services {
		codes[i] = a.cfg.Services[i].Code
	}
	return "one of " + strings.Join(codes, ", ") + " (GET " + BasePath + "/services.json lists them)"
}
