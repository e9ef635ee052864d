{{/*
NetworkPolicy of the server pods. Ingress: only the listed animerec services, pod labels,
namespaces and CIDRs, on the service port; an empty list denies everything. The metrics port
(metrics.port) admits only the namespaces of networkPolicy.metricsFromNamespaces (the scraper's,
gmp-system), and those reach no API port. NetworkPolicy is
L4: it can say "only the gateway", not "only the gateway's admin path"; the admin path is
enforced by the gateway (bearer GATEWAY_ADMIN_TOKEN).
*/}}
{{- define "animerec-lib.networkpolicy" -}}
{{- if .Values.networkPolicy.enabled -}}
{{- $np := .Values.networkPolicy -}}
{{- $egress := and $np.egress $np.egress.enabled -}}
{{- $peers := list -}}
{{- range $np.allowFromServices }}
{{- $peers = append $peers (dict "podSelector" (dict "matchLabels" (dict "app.kubernetes.io/name" . "app.kubernetes.io/part-of" "animerec" "app.kubernetes.io/component" "server"))) -}}
{{- end -}}
{{- range $np.allowFromPodLabels }}
{{- $peers = append $peers (dict "podSelector" (dict "matchLabels" .)) -}}
{{- end -}}
{{- range $np.allowFromNamespaces }}
{{- $peers = append $peers (dict "namespaceSelector" (dict "matchLabels" (dict "kubernetes.io/metadata.name" .))) -}}
{{- end -}}
{{- range $np.allowFromCIDRs }}
{{- $peers = append $peers (dict "ipBlock" (dict "cidr" .)) -}}
{{- end -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "animerec-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "animerec-lib.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "animerec-lib.selectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
    {{- if $egress }}
    - Egress
    {{- end }}
  {{- $scrapers := list -}}
  {{- range $np.metricsFromNamespaces }}
  {{- $scrapers = append $scrapers (dict "namespaceSelector" (dict "matchLabels" (dict "kubernetes.io/metadata.name" .))) -}}
  {{- end }}
  {{- if or $peers $scrapers }}
  ingress:
    {{- if $peers }}
    - from:
        {{- toYaml $peers | nindent 8 }}
      ports:
        - protocol: TCP
          port: {{ .Values.service.port }}
    {{- end }}
    {{- if $scrapers }}
    - from:
        {{- toYaml $scrapers | nindent 8 }}
      ports:
        - protocol: TCP
          port: {{ .Values.metrics.port }}
    {{- end }}
  {{- else }}
  ingress: []
  {{- end }}
  {{- if $egress }}
  egress:
    # DNS: kube-dns and NodeLocal DNSCache.
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: kube-system
          podSelector:
            matchLabels:
              k8s-app: kube-dns
        - ipBlock:
            cidr: 169.254.20.10/32
      ports:
        - protocol: UDP
          port: 53
        - protocol: TCP
          port: 53
    {{- range $svc, $port := $np.egress.toServices }}
    - to:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: {{ $svc }}
              app.kubernetes.io/part-of: animerec
              app.kubernetes.io/component: server
      ports:
        - protocol: TCP
          port: {{ $port }}
    {{- end }}
    {{- with $np.egress.extra }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
{{- end -}}
{{- end -}}
