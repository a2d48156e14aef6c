{{/* Names, labels and the shared pieces of the three workloads. */}}

{{- define "rotor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release full name; role suffixes ("-gateway", "-history") are appended to it. */}}
{{- define "rotor.fullname" -}}
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

{{- define "rotor.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "rotor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rotor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "rotor.labels" -}}
helm.sh/chart: {{ include "rotor.chart" . }}
{{ include "rotor.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one role: (dict "ctx" $ "role" "gateway"). */}}
{{- define "rotor.roleSelectorLabels" -}}
{{ include "rotor.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "rotor.roleLabels" -}}
{{ include "rotor.labels" .ctx }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "rotor.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "rotor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "rotor.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "rotor.secretName" -}}
{{- default (printf "%s-secrets" (include "rotor.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* The bundled NATS chart's full name, computed as that chart does. */}}
{{- define "rotor.natsFullname" -}}
{{- if .Values.nats.fullnameOverride -}}
{{- .Values.nats.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default "nats" .Values.nats.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "rotor.natsUrl" -}}
{{- if .Values.nats.url -}}
{{- .Values.nats.url -}}
{{- else if .Values.nats.enabled -}}
{{- printf "nats://%s:4222" (include "rotor.natsFullname" .) -}}
{{- else if not .Values.nats.urlSecret.name -}}
{{- fail "NATS is required: set nats.enabled=true (bundled chart), nats.url or nats.urlSecret" -}}
{{- end -}}
{{- end -}}

{{/*
Values the templates cannot work with, refused at render time: ports out of range, the api's two
ports equal, a shard index fixed in the config (every history pod would claim the same shard: one
serves, the others are refused by the shard lease), and extra environment variables that would
override what the chart sets (the probes, the ports or the shard mapping would go wrong).
*/}}
{{- define "rotor.validate" -}}
{{- range $what, $port := dict "gateway.port" .Values.gateway.port "api.httpPort" .Values.api.httpPort "api.grpc.port" .Values.api.grpc.port "history.httpPort" .Values.history.httpPort -}}
{{- if or (lt (int $port) 1) (gt (int $port) 65535) -}}
{{- fail (printf "%s must be a port between 1 and 65535, got %v" $what $port) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.api.grpc.enabled (eq (int .Values.api.httpPort) (int .Values.api.grpc.port)) -}}
{{- fail "api.httpPort and api.grpc.port must differ" -}}
{{- end -}}
{{- $rotor := get .Values.config "rotor" | default dict -}}
{{- $history := get $rotor "history" | default dict -}}
{{- if and (hasKey $history "shard") (ne (toString (get $history "shard")) "-1") -}}
{{- fail "config.rotor.history.shard must not be set: each history pod takes its shard from its pod ordinal" -}}
{{- end -}}
{{- range concat .Values.extraEnv .Values.gateway.extraEnv .Values.api.extraEnv .Values.history.extraEnv -}}
{{- if has .name (include "rotor.reservedEnv" $ | splitList " ") -}}
{{- fail (printf "extraEnv: %s is set by the chart (use the chart's values instead)" .name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Environment variables the chart sets or relies on, in either spelling the config accepts
(ROTOR_ + the key path, and the short form of rotor.* keys); space-separated.
*/}}
{{- define "rotor.reservedEnv" -}}
ROTOR_CONFIG ROTOR_HISTORY_SHARDS ROTOR_ROTOR_HISTORY_SHARDS ROTOR_HISTORY_SHARD ROTOR_ROTOR_HISTORY_SHARD ROTOR_HISTORY_HTTP_PORT ROTOR_ROTOR_HISTORY_HTTP_PORT ROTOR_HTTP_SERVER_PORT ROTOR_API_PORT ROTOR_ROTOR_API_PORT ROTOR_GRPC_API_ENABLED ROTOR_GRPC_API_PORT ROTOR_HEALTH_ENABLED ROTOR_PROMETHEUS_ENABLED HOSTNAME
{{- end -}}

{{/*
The rotor.json every role reads: .Values.config with the keys the chart owns set over it
(explicit `set`s: sprig's merge functions skip false and 0, so they cannot turn a flag off).
*/}}
{{- define "rotor.config" -}}
{{- $shards := int .Values.history.shards -}}
{{- if or (lt $shards 1) (gt $shards 1024) -}}
{{- fail "history.shards must be between 1 and 1024" -}}
{{- end -}}
{{- $cfg := deepCopy .Values.config -}}
{{- $httpServer := get $cfg "http_server" | default dict -}}
{{- $_ := set $httpServer "port" (int .Values.gateway.port) -}}
{{- $_ = set $cfg "http_server" $httpServer -}}
{{- $grpc := get $cfg "grpc_api" | default dict -}}
{{- $_ = set $grpc "enabled" .Values.api.grpc.enabled -}}
{{- $_ = set $grpc "port" (int .Values.api.grpc.port) -}}
{{- $_ = set $cfg "grpc_api" $grpc -}}
{{- $_ = set $cfg "health" (dict "enabled" true) -}}
{{- $_ = set $cfg "prometheus" (dict "enabled" true) -}}
{{- $rotor := get $cfg "rotor" | default dict -}}
{{- $_ = set $rotor "api_port" (int .Values.api.httpPort) -}}
{{- $history := get $rotor "history" | default dict -}}
{{- $_ = set $history "shards" $shards -}}
{{- $_ = set $history "http_port" (int .Values.history.httpPort) -}}
{{- $_ = set $rotor "history" $history -}}
{{- $url := include "rotor.natsUrl" . -}}
{{- if $url -}}
{{- $nats := get $rotor "nats" | default dict -}}
{{- $_ = set $nats "url" $url -}}
{{- $_ = set $rotor "nats" $nats -}}
{{- end -}}
{{- $_ = set $cfg "rotor" $rotor -}}
{{- toPrettyJson $cfg -}}
{{- end -}}

{{/* Environment shared by every role: config file, shard count, secrets, NATS URL secret. */}}
{{- define "rotor.env" -}}
- name: ROTOR_CONFIG
  value: /etc/rotor/rotor.json
- name: ROTOR_HISTORY_SHARDS
  value: {{ .Values.history.shards | quote }}
- name: ROTOR_CLIENT_TOKEN_HMAC_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "rotor.secretName" . }}
      key: {{ .Values.secrets.keys.hmacSecretKey }}
- name: ROTOR_HTTP_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "rotor.secretName" . }}
      key: {{ .Values.secrets.keys.httpApiKey }}
- name: ROTOR_GRPC_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "rotor.secretName" . }}
      key: {{ .Values.secrets.keys.grpcApiKey }}
{{- if .Values.nats.urlSecret.name }}
- name: ROTOR_NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.nats.urlSecret.name }}
      key: {{ required "nats.urlSecret.key is required with nats.urlSecret.name" .Values.nats.urlSecret.key }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod-level annotations that roll the pods when the config or the secret values change. */}}
{{- define "rotor.podChecksums" -}}
checksum/config: {{ include "rotor.config" . | sha256sum }}
checksum/secret-values: {{ toJson .Values.secrets | sha256sum }}
{{- end -}}

{{- define "rotor.volumes" -}}
- name: config
  configMap:
    name: {{ include "rotor.fullname" . }}-config
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end -}}

{{- define "rotor.volumeMounts" -}}
- name: config
  mountPath: /etc/rotor
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- end -}}
