{{/* Names and labels shared by every template. */}}

{{- define "microcred.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "microcred.labels" -}}
app.kubernetes.io/part-of: microcred
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Labels that select every pod of this release (used by the default-deny policy). */}}
{{- define "microcred.releaseSelector" -}}
app.kubernetes.io/part-of: microcred
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Selector of one service's pods; call with (dict "root" $ "name" $name). */}}
{{- define "microcred.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "microcred.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Name of a service's Kubernetes objects; call with (dict "root" $ "name" $name). */}}
{{- define "microcred.svcName" -}}
{{- printf "%s-%s" (include "microcred.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "microcred.redisName" -}}
{{- printf "%s-redis" (include "microcred.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
gRPC readiness: grpc.health.v1 Check (service "") over mutual TLS with the probe client certificate.
The kubelet's built-in `grpc:` probe cannot present a client certificate (Kubernetes docs: built-in
probes take no authentication parameters), and these servers require one, so this is an exec probe.
*/}}
{{- define "microcred.grpcHealthCommand" -}}
- python
- -c
- >-
  import os, grpc;
  from grpc_health.v1 import health_pb2 as h, health_pb2_grpc as g;
  d = os.environ['MICROCRED_TLS_DIR'];
  r = lambda n: open(os.path.join(d, n), 'rb').read();
  c = grpc.secure_channel('localhost:' + os.environ['MICROCRED_GRPC_PORT'],
  grpc.ssl_channel_credentials(r('ca.crt'), r('client.key'), r('client.crt')));
  s = g.HealthStub(c).Check(h.HealthCheckRequest(service=''), timeout=3).status;
  raise SystemExit(0 if s == h.HealthCheckResponse.SERVING else 1)
{{- end -}}
