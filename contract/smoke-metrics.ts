// The Prometheus metric names the smoke run publishes as a node_exporter textfile (smoke/metrics-file.ts writes
// them) and the alert rules and dashboard read (infra/monitoring). This module imports nothing of the project
// (contract/ is the bottom layer).
export const SMOKE_METRICS = {
  success: "selfhosted_mcp_smoke_success",
  lastRun: "selfhosted_mcp_smoke_last_run_timestamp_seconds",
  duration: "selfhosted_mcp_smoke_duration_seconds",
  healthUp: "selfhosted_mcp_smoke_health_up",
  healthFailures: "selfhosted_mcp_smoke_health_consecutive_failures",
  toolSuccess: "selfhosted_mcp_smoke_tool_success",
  certExpiry: "selfhosted_mcp_smoke_tls_cert_expiry_timestamp_seconds",
} as const;
