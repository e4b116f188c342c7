{{/*
Shared names, labels and fragments. Object names start with the release name, which storectl
sets to the store name, so every name stays well under Kubernetes' limits.
*/}}

{{- define "woocommerce.fullname" -}}
{{- .Release.Name | trunc 48 | trimSuffix "-" -}}
{{- end -}}

{{- define "woocommerce.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The store's public host name. */}}
{{- define "woocommerce.host" -}}
{{- printf "%s.%s" .Values.store.name .Values.store.domain -}}
{{- end -}}

{{/* The store's URL with its final scheme, which WordPress stores as siteurl and home. */}}
{{- define "woocommerce.url" -}}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) (include "woocommerce.host" .) -}}
{{- end -}}

{{- define "woocommerce.credentialsSecret" -}}
{{- default (printf "%s-credentials" (include "woocommerce.fullname" .)) .Values.credentials.existingSecret -}}
{{- end -}}

{{- define "woocommerce.mariadbHost" -}}
{{- printf "%s-mariadb" (include "woocommerce.fullname" .) -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "woocommerce.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: storectl
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ include "woocommerce.chart" . }}
storectl.dev/store: {{ .Values.store.name }}
{{- end -}}

{{/* Selector labels of one component; call with (dict "ctx" $ "component" "wordpress"). */}}
{{- define "woocommerce.selectorLabels" -}}
app.kubernetes.io/name: {{ .ctx.Chart.Name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of a workload or pod of one component; same argument as selectorLabels. */}}
{{- define "woocommerce.componentLabels" -}}
{{ include "woocommerce.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* An image reference; a digest wins over the tag. Argument: the image values. */}}
{{- define "woocommerce.image" -}}
{{- if .digest -}}
{{- printf "%s@%s" .repository .digest -}}
{{- else -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}
{{- end -}}

{{/* Pod-level security context for Pod Security "restricted"; argument: the numeric uid/gid. */}}
{{- define "woocommerce.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ . }}
runAsGroup: {{ . }}
fsGroup: {{ . }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security context for Pod Security "restricted"; argument: the numeric uid/gid. */}}
{{- define "woocommerce.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ . }}
runAsGroup: {{ . }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* WordPress's database settings, shared by the WordPress container and the setup Job. */}}
{{- define "woocommerce.wordpressDatabaseEnv" -}}
- name: WORDPRESS_DB_HOST
  value: {{ include "woocommerce.mariadbHost" . }}
- name: WORDPRESS_DB_NAME
  value: {{ .Values.mariadb.database | quote }}
- name: WORDPRESS_DB_USER
  value: {{ .Values.mariadb.user | quote }}
- name: WORDPRESS_DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "woocommerce.credentialsSecret" . }}
      key: mariadb-password
- name: WORDPRESS_CONFIG_EXTRA
  value: |
    define('FS_METHOD', 'direct');
    define('WP_MEMORY_LIMIT', '{{ .Values.wordpress.phpMemoryLimit }}');
{{- end -}}
