{{/* The release's name for every object, cut to Kubernetes' 63 characters. */}}
{{- define "ai-gateway.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ai-gateway.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one role: call with (dict "root" $ "role" "ingress"). */}}
{{- define "ai-gateway.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{/* in-flight grace + preStop + the 5 s the rest of a shutdown may take + 5 s of margin */}}
{{- define "ai-gateway.terminationGracePeriodSeconds" -}}
{{- add (div (add .Values.shutdownGraceMs 999) 1000) .Values.preStopSeconds 10 -}}
{{- end -}}

{{- define "ai-gateway.configMapName" -}}
{{- .Values.existingConfigMap | default (include "ai-gateway.fullname" .) -}}
{{- end -}}
