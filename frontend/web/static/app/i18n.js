// Vietnamese and English. Place names come from the data, with their
// diacritics; only the interface is translated here.
const dict = {
  vi: {
    city: "Đà Nẵng", layers: "Lớp dữ liệu", connection: "Kết nối", timeTravel: "Xem lại", play: "Phát", pause: "Dừng",
    backToLive: "Về trực tiếp", latest: "Mới nhất", nearestProblems: "Sự cố gần nhất", myTasks: "Nhiệm vụ của tôi",
    notLive: "KHÔNG TRỰC TIẾP — xem lại lúc", ended: "hết đoạn xem lại",
    kpiAqi: "AQI trung bình", kpiWorst: "trạm tệ nhất", kpiCongestion: "Ùn tắc", kpiRivers: "Sông ≥ BĐ1", kpiDark: "Đèn tắt",
    kpiReports: "Phản ánh mở", kpiIncidents: "Sự cố đang xử lý",
    properties: "Thuộc tính", area: "Khu vực", history: "Lịch sử trạng thái", charts: "24 giờ qua", workflow: "Quy trình xử lý",
    photo: "Ảnh", description: "Nội dung", stale: "mất tín hiệu", noData: "chưa có dữ liệu", loading: "đang tải…",
    cluster: "nhóm", items: "đối tượng", worst: "tệ nhất", zoomIn: "phóng to để xem", none: "không có",
    distance: "cách", noTasks: "chưa có nhiệm vụ được giao", pastState: "trạng thái trong quá khứ",
    user: "Tên đăng nhập", password: "Mật khẩu", login: "Đăng nhập", loginFailed: "Đăng nhập không thành công",
    "traffic.segments": "Đoạn đường (ùn tắc)", "traffic.signals": "Đèn tín hiệu", "traffic.cameras": "Camera giao thông",
    "traffic.parking": "Bãi đỗ xe", "traffic.violations": "Vi phạm", "environment.air": "Không khí (VN_AQI)",
    "environment.water": "Chất lượng nước", "lighting.lamps": "Đèn chiếu sáng", "lighting.cabinets": "Tủ điện chiếu sáng",
    "flooding.rain": "Mưa", "flooding.rivers": "Mực nước sông", "flooding.streets": "Ngập đường phố",
    "feedback.reports": "Phản ánh người dân", "ioc.incidents": "Sự cố",
    "response.teams": "Đội ứng cứu", "ioc.zones": "Vùng khẩn cấp", "ioc.zone_events": "Ra/vào vùng", "alerts.cap": "Cảnh báo (CAP)",
    severity: "Mức độ", status: "Trạng thái", place: "Địa điểm", opened: "Mở lúc", updated: "Cập nhật", evidence: "Bằng chứng",
    tasks: "Nhiệm vụ", trail: "Nhật ký xử lý", actions: "Xử lý", acknowledge: "Tiếp nhận", assign: "Giao cho đội",
    comment: "Ghi chú", setSeverity: "Đổi mức độ", resolve: "Đã xử lý xong", reopen: "Mở lại", noTeams: "không có đội sẵn sàng gần đó",
    commentPlaceholder: "Nội dung ghi chú…", actionFailed: "Không thực hiện được", summary: "Tình hình trong vùng",
    entities: "Đối tượng", reportsOpen: "Phản ánh mở", lampsOut: "Đèn tắt", roadsBlocked: "Đường không qua được",
    teams: "Đội", teamIncidents: "Sự cố được giao", myZones: "Vùng đang ở", kind: "Loại", headline: "Tiêu đề",
    instruction: "Hướng dẫn", expires: "Hết hạn",
  },
  en: {
    city: "Da Nang", layers: "Layers", connection: "Connection", timeTravel: "Time travel", play: "Play", pause: "Pause",
    backToLive: "Back to live", latest: "Latest", nearestProblems: "Nearest problems", myTasks: "My tasks",
    notLive: "NOT LIVE — replay at", ended: "end of replay",
    kpiAqi: "Average AQI", kpiWorst: "worst", kpiCongestion: "Congestion", kpiRivers: "Rivers ≥ BĐ1", kpiDark: "Dark lamps",
    kpiReports: "Open reports", kpiIncidents: "Active incidents",
    properties: "Properties", area: "Area", history: "Status history", charts: "Last 24 hours", workflow: "Workflow",
    photo: "Photo", description: "Text", stale: "stale", noData: "no data yet", loading: "loading…",
    cluster: "cluster", items: "items", worst: "worst", zoomIn: "zoom in to see them", none: "none",
    distance: "at", noTasks: "no task assigned", pastState: "past state",
    user: "User", password: "Password", login: "Log in", loginFailed: "Login failed",
    "traffic.segments": "Road segments (congestion)", "traffic.signals": "Traffic signals", "traffic.cameras": "Traffic cameras",
    "traffic.parking": "Parking", "traffic.violations": "Violations", "environment.air": "Air quality (VN_AQI)",
    "environment.water": "Water quality", "lighting.lamps": "Street lamps", "lighting.cabinets": "Lighting cabinets",
    "flooding.rain": "Rain", "flooding.rivers": "River levels", "flooding.streets": "Street flooding",
    "feedback.reports": "Citizen reports", "ioc.incidents": "Incidents",
    "response.teams": "Response teams", "ioc.zones": "Emergency zones", "ioc.zone_events": "Zone enter/leave", "alerts.cap": "Alerts (CAP)",
    severity: "Severity", status: "Status", place: "Place", opened: "Opened", updated: "Updated", evidence: "Evidence",
    tasks: "Tasks", trail: "Trail", actions: "Actions", acknowledge: "Acknowledge", assign: "Assign team",
    comment: "Comment", setSeverity: "Set severity", resolve: "Resolve", reopen: "Reopen", noTeams: "no available team nearby",
    commentPlaceholder: "Comment…", actionFailed: "Action failed", summary: "Inside the zone",
    entities: "Entities", reportsOpen: "Open reports", lampsOut: "Dark lamps", roadsBlocked: "Blocked roads",
    teams: "Teams", teamIncidents: "Assigned incidents", myZones: "Zones I am in", kind: "Kind", headline: "Headline",
    instruction: "Instruction", expires: "Expires",
  },
};

// Legend values and states, both languages.
const values = {
  vi: {
    free: "thông thoáng", light: "nhẹ", moderate: "vừa", heavy: "nặng", jammed: "tắc", normal: "bình thường", flashing: "nhấp nháy",
    fault: "hỏng", offline: "mất kết nối", good: "tốt", poor: "kém", bad: "xấu", very_bad: "rất xấu", hazardous: "nguy hại",
    on: "sáng", dimmed: "giảm sáng", off: "tắt", no_power: "mất điện", unknown: "không rõ", dark: "tắt",
    below_bd1: "dưới BĐ1", bd1: "BĐ1", bd2: "BĐ2", bd3: "BĐ3", dry: "khô", shallow: "nông", deep: "sâu", very_deep: "rất sâu",
    none: "không mưa", violent: "rất to", received: "đã nhận", assigned: "đã giao", in_progress: "đang xử lý", resolved: "đã xong",
    rejected: "từ chối", critical: "khẩn cấp", high: "cao", major: "lớn", minor: "nhỏ", info: "thông tin", ok: "đạt", exceeded: "vượt chuẩn",
    full: "hết chỗ", available: "còn chỗ", stale: "mất tín hiệu",
    open: "mới", acknowledged: "đã tiếp nhận", closed: "đã đóng", en_route: "đang đến", on_site: "tại hiện trường", done: "hoàn thành",
    busy: "đang bận", enter: "vào", leave: "rời", emergency: "khẩn cấp", geofence: "hàng rào ảo", active: "đang hiệu lực",
    Extreme: "cực kỳ nguy hiểm", Severe: "nguy hiểm", Moderate: "trung bình", Minor: "nhẹ", Unknown: "không rõ",
    engine: "hệ thống", opened: "mở", fused: "gộp", severity: "mức độ", acknowledge: "tiếp nhận", assign: "giao", task: "nhiệm vụ",
    comment: "ghi chú", resolve: "xử lý xong", reopen: "mở lại",
    rescue: "cứu hộ", medical: "y tế", fire: "cứu hỏa", police: "công an", maintenance: "bảo trì", utility: "điện nước",
    military: "quân đội", volunteer: "tình nguyện",
    "response.teams:available": "sẵn sàng", "ioc.zone_events:enter": "vào vùng", "ioc.zone_events:leave": "rời vùng",
  },
  en: {
    free: "free", light: "light", moderate: "moderate", heavy: "heavy", jammed: "jammed", normal: "normal", flashing: "flashing",
    fault: "fault", offline: "offline", good: "good", poor: "poor", bad: "bad", very_bad: "very bad", hazardous: "hazardous",
    on: "on", dimmed: "dimmed", off: "off", no_power: "no power", unknown: "unknown", dark: "dark",
    below_bd1: "below BĐ1", bd1: "BĐ1", bd2: "BĐ2", bd3: "BĐ3", dry: "dry", shallow: "shallow", deep: "deep", very_deep: "very deep",
    none: "no rain", violent: "violent", received: "received", assigned: "assigned", in_progress: "in progress", resolved: "resolved",
    rejected: "rejected", critical: "critical", high: "high", major: "major", minor: "minor", info: "info", ok: "ok", exceeded: "exceeded",
    full: "full", available: "available", stale: "stale",
    open: "open", acknowledged: "acknowledged", closed: "closed", en_route: "en route", on_site: "on site", done: "done",
    busy: "busy", enter: "enter", leave: "leave", emergency: "emergency", geofence: "geofence", active: "active",
    Extreme: "extreme", Severe: "severe", Moderate: "moderate", Minor: "minor", Unknown: "unknown",
    engine: "system", opened: "opened", fused: "fused", severity: "severity", acknowledge: "acknowledge", assign: "assign", task: "task",
    comment: "comment", resolve: "resolve", reopen: "reopen",
    "ioc.zone_events:enter": "entered", "ioc.zone_events:leave": "left",
  },
};

let lang = pickLanguage();

function pickLanguage() {
  const fromURL = new URLSearchParams(location.search).get("lang");
  if (fromURL === "vi" || fromURL === "en") return fromURL;
  try {
    const saved = localStorage.getItem("ioc.lang");
    if (saved === "vi" || saved === "en") return saved;
  } catch { /* storage may be disabled: default */ }
  return "vi";
}

export function language() { return lang; }

export function setLanguage(l) {
  lang = l;
  try { localStorage.setItem("ioc.lang", l); } catch { /* not persisted */ }
  document.documentElement.lang = l;
}

export function t(key) { return dict[lang][key] ?? dict.en[key] ?? key; }

// tv translates a value; with a layer, a meaning of the value proper to
// that layer wins ("available": a parking space, or a team).
export function tv(value, layer) {
  if (value === undefined || value === null) return "";
  if (layer) { const own = values[lang][layer + ":" + value] ?? values.en[layer + ":" + value]; if (own) return own; }
  return values[lang][value] ?? String(value);
}

// applyStatic fills every element marked data-i18n with its text.
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}

export function formatTime(iso) {
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleString(lang === "vi" ? "vi-VN" : "en-GB", { timeZone: "Asia/Ho_Chi_Minh", hour12: false,
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
