{{/* Names, labels, image and the RBAC rules the templates share. */}}

{{- define "daytwo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "daytwo.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "daytwo.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "daytwo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: daytwo
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: include "daytwo.selectorLabels" (list . "operator") */}}
{{- define "daytwo.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "daytwo.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "daytwo.componentLabels" -}}
{{ include "daytwo.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "daytwo.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end -}}

{{- define "daytwo.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create -}}
{{- default (printf "%s-operator" (include "daytwo.fullname" .)) .Values.operator.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "daytwo.facade.serviceAccountName" -}}
{{- if .Values.facade.serviceAccount.create -}}
{{- default (printf "%s-facade" (include "daytwo.fullname" .)) .Values.facade.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.facade.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "daytwo.peering" -}}
{{- if gt (int .Values.operator.standbyReplicas) 0 }}true{{ end -}}
{{- end -}}

{{/* The daytwo kinds (plural resource names); DriftEvents are listed apart because the operator creates them. */}}
{{- define "daytwo.kinds" -}}
- snapshotpolicies
- restorejobs
- driftrules
- driftevents
- aggregatemigrations
- proxmoxnodes
- cloudcredentials
- cloudresources
- alertrules
{{- end -}}

{{- define "daytwo.kindStatuses" -}}
{{- range (include "daytwo.kinds" . | fromYamlArray) }}
- {{ . }}/status
{{- end -}}
{{- end -}}

{{/*
The operator's rules in the namespaces it serves: watch and patch its kinds (Kopf's finalizers and
progress annotations), write their status, create the DriftEvents it detects, keep drift baselines
and CloudCredential inventories in ConfigMaps it owns, read Secrets (never write them), post Events,
and take part in namespaced Kopf peering when standbys are on.
*/}}
{{- define "daytwo.operator.namespacedRules" -}}
- apiGroups: [daytwo.io]
  resources:
    {{- include "daytwo.kinds" . | nindent 4 }}
  verbs: [get, list, watch, patch]
- apiGroups: [daytwo.io]
  resources:
    {{- include "daytwo.kindStatuses" . | trim | nindent 4 }}
  verbs: [get, patch, update]
- apiGroups: [daytwo.io]
  resources: [driftevents]
  verbs: [create, delete]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, create, update, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- if and (include "daytwo.peering" .) .Values.operator.watchNamespaces }}
- apiGroups: [kopf.dev]
  resources: [kopfpeerings]
  verbs: [get, list, watch, patch]
{{- end }}
{{- end -}}
