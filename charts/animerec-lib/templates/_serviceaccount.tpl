{{/* One Kubernetes ServiceAccount per service, bound to its own GCP service account by Workload Identity. */}}
{{- define "animerec-lib.serviceaccount" -}}
{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "animerec-lib.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "animerec-lib.labels" . | nindent 4 }}
  {{- if or .Values.serviceAccount.gcpServiceAccount .Values.serviceAccount.annotations }}
  annotations:
    {{- with .Values.serviceAccount.gcpServiceAccount }}
    iam.gke.io/gcp-service-account: {{ . | quote }}
    {{- end }}
    {{- with .Values.serviceAccount.annotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
automountServiceAccountToken: false
{{- end -}}
{{- end -}}
