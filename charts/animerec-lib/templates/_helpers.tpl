{{/*
Names, labels, image and security contexts shared by every animerec chart.
*/}}

{{- define "animerec-lib.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped name; a release named like its chart (CI: `helm upgrade --install gateway charts/gateway`) gives "gateway". */}}
{{- define "animerec-lib.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "animerec-lib.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "animerec-lib.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels without component: shared by the server pods and the training CronJob pods. */}}
{{- define "animerec-lib.baseLabels" -}}
helm.sh/chart: {{ include "animerec-lib.chart" . }}
app.kubernetes.io/name: {{ include "animerec-lib.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ include "animerec-lib.tag" . | trunc 63 | quote }}
app.kubernetes.io/part-of: animerec
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "animerec-lib.labels" -}}
{{ include "animerec-lib.baseLabels" . }}
app.kubernetes.io/component: server
{{- end -}}

{{/* Selector of the server pods; "component" keeps the Service and PDB off CronJob pods. */}}
{{- define "animerec-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ include "animerec-lib.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "animerec-lib.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "animerec-lib.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Image tag: values first (CI sets the git SHA), the chart's appVersion otherwise. */}}
{{- define "animerec-lib.tag" -}}
{{- .Values.image.tag | default .Chart.AppVersion | toString -}}
{{- end -}}

{{- define "animerec-lib.image" -}}
{{- $repo := required "image.repository is required" .Values.image.repository -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (include "animerec-lib.tag" .) -}}
{{- end -}}
{{- end -}}

{{/* Pod security context: not configurable below these guarantees. */}}
{{- define "animerec-lib.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser | default 10001 }}
runAsGroup: {{ .Values.securityContext.runAsGroup | default 10001 }}
fsGroup: {{ .Values.securityContext.runAsGroup | default 10001 }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "animerec-lib.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser | default 10001 }}
runAsGroup: {{ .Values.securityContext.runAsGroup | default 10001 }}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Env vars taken from existing Secrets, never from values: secretEnv maps NAME -> {secretName, key, optional}. */}}
{{- define "animerec-lib.secretEnv" -}}
{{- range $name, $ref := .Values.secretEnv }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "secretEnv.%s.secretName is required" $name) $ref.secretName }}
      key: {{ required (printf "secretEnv.%s.key is required" $name) $ref.key }}
      optional: {{ $ref.optional | default false }}
{{- end }}
{{- end -}}

{{/* The writable places of a read-only root filesystem. */}}
{{- define "animerec-lib.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: cache
  mountPath: /var/cache/animerec
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "animerec-lib.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.volumes.tmpSizeLimit | default "256Mi" }}
- name: cache
  emptyDir:
    sizeLimit: {{ .Values.volumes.cacheSizeLimit | default "1Gi" }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "animerec-lib.scheduling" -}}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* checkov checks the workloads (Deployment, CronJob, Job) skip on purpose, each with its reason (no "=" in a reason). */}}
{{- define "animerec-lib.checkovSkips" -}}
{{- if not .Values.image.digest }}
checkov.io/skip1: "CKV_K8S_43=images are tagged with the immutable git SHA in Artifact Registry (tag immutability on) so the tag pins one digest"
{{- end }}
{{- if ne (.Values.image.pullPolicy | default "IfNotPresent") "Always" }}
checkov.io/skip2: "CKV_K8S_15=IfNotPresent is wanted: an immutable git-SHA tag never changes so Always only adds a registry round trip per pod start"
{{- end }}
checkov.io/skip3: "CKV_K8S_35=the services read settings from env vars by design (pydantic-settings); the Secrets are synced from Secret Manager"
{{- end -}}
