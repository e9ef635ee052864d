{{/* Google Cloud Managed Service for Prometheus scrapes /metrics of the server pods on their metrics port (monitoring.enabled). */}}
{{- define "animerec-lib.podmonitoring" -}}
{{- if and .Values.monitoring .Values.monitoring.enabled -}}
apiVersion: monitoring.googleapis.com/v1
kind: PodMonitoring
metadata:
  name: {{ include "animerec-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "animerec-lib.labels" . | nindent 4 }}
spec:
  selector:
    matchLabels:
      {{- include "animerec-lib.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: metrics
      path: /metrics
      interval: {{ .Values.monitoring.interval | default "30s" }}
{{- end -}}
{{- end -}}
