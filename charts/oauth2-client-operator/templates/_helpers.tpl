{{/*
The prefix of every object's name: the release name, followed by the chart's name unless the
release name already contains it. With the release name oauth2-client-operator the names are
those of dist/install.yaml (oauth2-client-operator-controller-manager, ...).
*/}}
{{- define "oauth2-client-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The operator's ServiceAccount and Deployment. */}}
{{- define "oauth2-client-operator.managerName" -}}
{{- printf "%s-controller-manager" (include "oauth2-client-operator.fullname" .) -}}
{{- end -}}

{{/* Labels that select the operator's pods; they never change after installation. */}}
{{- define "oauth2-client-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
control-plane: controller-manager
{{- end -}}

{{/* Labels of every object. */}}
{{- define "oauth2-client-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The image reference: a digest wins over a tag; no tag means the chart's appVersion. */}}
{{- define "oauth2-client-operator.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/*
The operator's own rules, from files/manager-role.yaml: a copy of config/rbac/manager/role.yaml,
which controller-gen generates from the +kubebuilder:rbac markers on the reconciler and
`make manifests` copies here, so the chart grants exactly what the code asks for.
*/}}
{{- define "oauth2-client-operator.managerRules" -}}
{{- $role := .Files.Get "files/manager-role.yaml" | fromYaml -}}
{{- if not $role.rules -}}
{{- fail "files/manager-role.yaml has no rules: run make manifests" -}}
{{- end -}}
{{- toYaml $role.rules -}}
{{- end -}}

{{/*
The metrics Service. A Service's name is a DNS label of at most 63 characters, so a long release
name gets the shorter suffix -metrics instead of the bundle's -controller-manager-metrics-service.
*/}}
{{- define "oauth2-client-operator.metricsServiceName" -}}
{{- $name := printf "%s-controller-manager-metrics-service" (include "oauth2-client-operator.fullname" .) -}}
{{- if gt (len $name) 63 -}}
{{- $name = printf "%s-metrics" (include "oauth2-client-operator.fullname" .) -}}
{{- end -}}
{{- $name -}}
{{- end -}}
