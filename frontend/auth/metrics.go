package auth

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	rejections      *prometheus.CounterVec
	logins          *prometheus.CounterVec
	auditSuppressed prometheus.Counter
}

// auditFailures counts audit records that could not be written. It is
// package-level because a store may be shared by several Auths (tests) but
// registered once, by the Auth built with a registerer.
var auditFailures = prometheus.NewCounter(prometheus.CounterOpts{
	Namespace: "ioc", Subsystem: "audit", Name: "write_failures_total",
	Help: "Audit records that could not be written to the store (also logged at error level).",
})

func newMetrics(reg prometheus.Registerer, ss *sessions) *metrics {
	m := &metrics{
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "auth", Name: "rejections_total",
			Help: "Requests refused by authentication or authorisation, by reason (no_credentials, bad_token, expired_token, revoked_token, bad_session, expired_session, bad_authorization_header, forbidden, out_of_scope, cross_origin, bad_login, login_throttled).",
		}, []string{"reason"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "auth", Name: "logins_total",
			Help: "Login attempts, by outcome (ok, failed, throttled).",
		}, []string{"outcome"}),
		auditSuppressed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "audit", Name: "suppressed_total",
			Help: "auth_failed and access_denied records not written because their client address exceeded 60 a minute (the rejections are still counted).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.rejections, m.logins, m.auditSuppressed, auditFailures,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "ioc", Subsystem: "auth", Name: "sessions",
				Help: "Open browser sessions."}, func() float64 { return float64(ss.count()) }))
	}
	return m
}
