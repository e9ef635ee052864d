{{/* Non-secret settings as env vars. Keys that look like secrets are refused: use secretEnv. */}}
{{- define "animerec-lib.configmap" -}}
{{- $fixed := dict "HOME" "/tmp" "TMPDIR" "/tmp" "STORAGE_CACHE_DIR" "/var/cache/animerec" "MPLCONFIGDIR" "/tmp/matplotlib" "LOG_JSON" "true" "HOST" "0.0.0.0" -}}
{{- $_ := set $fixed (printf "%s_METRICS_PORT" (include "animerec-lib.name" . | upper)) (toString .Values.metrics.port) -}}
{{- $data := merge (dict) (.Values.config | default dict) $fixed -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "animerec-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "animerec-lib.labels" . | nindent 4 }}
data:
  {{- range $key, $value := $data }}
  {{- if regexMatch "(?i)(KEY|TOKEN|SECRET|PASSWORD)" $key }}
  {{- fail (printf "config.%s looks like a secret: reference an existing Secret through secretEnv instead" $key) }}
  {{- end }}
  {{ $key }}: {{ $value | toString | quote }}
  {{- end }}
{{- end -}}
