{{/* PodDisruptionBudget: minAvailable for replicated services, maxUnavailable for singletons. */}}
{{- define "animerec-lib.pdb" -}}
{{- if .Values.podDisruptionBudget.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "animerec-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "animerec-lib.labels" . | nindent 4 }}
spec:
  {{- if hasKey .Values.podDisruptionBudget "minAvailable" }}
  minAvailable: {{ .Values.podDisruptionBudget.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "animerec-lib.selectorLabels" . | nindent 6 }}
{{- end -}}
{{- end -}}
