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

