// Package serve is storectl's HTTP server: the REST API, Server-Sent Events, Prometheus
// metrics and the dashboard, over the same store engine and audit log as the CLI.
package serve
