{{/* The service's Deployment: one uvicorn process per pod, scaled by replicas or an HPA. */}}
{{- define "animerec-lib.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "animerec-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "animerec-lib.labels" . | nindent 4 }}
  annotations:
    {{- include "animerec-lib.checkovSkips" . | nindent 4 }}
spec:
  {{- if not (and .Values.autoscaling .Values.autoscaling.enabled) }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  {{- with .Values.strategy }}
  strategy:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "animerec-lib.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "animerec-lib.labels" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include "animerec-lib.configmap" . | sha256sum }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "animerec-lib.serviceAccountName" . }}
      # Workload Identity needs no Kubernetes API token in the pod.
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- include "animerec-lib.podSecurityContext" . | nindent 8 }}
      terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds | default 30 }}
      {{- with (include "animerec-lib.scheduling" . | trim) }}
      {{- . | nindent 6 }}
      {{- end }}
      {{- if and .Values.topologySpread .Values.topologySpread.enabled }}
      topologySpreadConstraints:
        {{- range list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
        - maxSkew: 1
          topologyKey: {{ . }}
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "animerec-lib.selectorLabels" $ | nindent 14 }}
        {{- end }}
      {{- end }}
      containers:
        - name: {{ include "animerec-lib.name" . }}
          image: {{ include "animerec-lib.image" . | quote }}
          imagePullPolicy: {{ .Values.image.pullPolicy | default "IfNotPresent" }}
          {{- with .Values.args }}
          args:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          ports:
            - name: http
              containerPort: {{ .Values.service.port }}
              protocol: TCP
            - name: metrics
              containerPort: {{ .Values.metrics.port }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "animerec-lib.fullname" . }}
          {{- with (include "animerec-lib.secretEnv" . | trim) }}
          env:
            {{- . | nindent 12 }}
          {{- end }}
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ .Values.probes.startup.periodSeconds | default 5 }}
            timeoutSeconds: {{ .Values.probes.startup.timeoutSeconds | default 3 }}
            failureThreshold: {{ .Values.probes.startup.failureThreshold | default 60 }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: {{ .Values.probes.readiness.periodSeconds | default 10 }}
            timeoutSeconds: {{ .Values.probes.readiness.timeoutSeconds | default 3 }}
            failureThreshold: {{ .Values.probes.readiness.failureThreshold | default 3 }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ .Values.probes.liveness.periodSeconds | default 20 }}
            timeoutSeconds: {{ .Values.probes.liveness.timeoutSeconds | default 3 }}
            failureThreshold: {{ .Values.probes.liveness.failureThreshold | default 3 }}
          lifecycle:
            preStop:
              # Keep serving while the endpoint is removed from Services and load balancers.
              exec:
                command: ["python", "-c", "import time; time.sleep({{ .Values.preStopSleepSeconds | default 5 }})"]
          resources:
            {{- required "resources are required" .Values.resources | toYaml | nindent 12 }}
          securityContext:
            {{- include "animerec-lib.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            {{- include "animerec-lib.volumeMounts" . | nindent 12 }}
      volumes:
        {{- include "animerec-lib.volumes" . | nindent 8 }}
{{- end -}}
