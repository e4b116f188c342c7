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

{{/* The setup Job of this revision; storectl derives the same name (store.SetupJobName). */}}
{{- define "woocommerce.setupJob" -}}
{{- printf "%s-setup-r%d" (include "woocommerce.fullname" .) (int .Release.Revision) -}}
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

{{/*
Labels of a field Kubernetes never lets change (a StatefulSet's volumeClaimTemplates): only
labels that stay the same across chart and app versions, so that an upgrade can apply the
object. Same argument as selectorLabels.
*/}}
{{- define "woocommerce.stableLabels" -}}
{{ include "woocommerce.selectorLabels" . }}
app.kubernetes.io/part-of: storectl
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
storectl.dev/store: {{ .ctx.Values.store.name }}
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

{{/*
The release an image tag names: its leading dotted number ("7.1" of "7.1-php8.3-apache",
"11.8" of "11.8"), or "" for a tag without one ("lts"). Argument: the tag.
*/}}
{{- define "woocommerce.tagVersion" -}}
{{- regexFind "^[0-9]+(\\.[0-9]+)*" (toString .) -}}
{{- end -}}

{{/* The WordPress release the WordPress image carries, as its tag names it. */}}
{{- define "woocommerce.wordpressVersion" -}}
{{- include "woocommerce.tagVersion" .Values.wordpress.image.tag -}}
{{- end -}}

{{/*
The MariaDB release the database image carries, as its tag names it. WordPress and the setup
Job wait for a server of this release, so they never start on a database that has not finished
its own upgrade.
*/}}
{{- define "woocommerce.mariadbVersion" -}}
{{- include "woocommerce.tagVersion" .Values.mariadb.image.tag -}}
{{- end -}}

{{/* The WooCommerce release the setup Job installs. */}}
{{- define "woocommerce.wcVersion" -}}
{{- default .Chart.AppVersion .Values.setup.woocommerce.version -}}
{{- end -}}

{{/* Where the setup Job fetches WooCommerce's archive: the values' url, else wordpress.org. */}}
{{- define "woocommerce.wcSourceURL" -}}
{{- default (printf "https://downloads.wordpress.org/plugin/woocommerce.%s.zip" (include "woocommerce.wcVersion" .)) .Values.setup.woocommerce.url -}}
{{- end -}}

{{/* The TCP port the setup Job needs outside the cluster for its WooCommerce source, or "" for a file. */}}
{{- define "woocommerce.wcSourcePort" -}}
{{- $u := urlParse (include "woocommerce.wcSourceURL" .) -}}
{{- if eq $u.scheme "file" -}}
{{- else if regexMatch ":[0-9]+$" $u.host -}}
{{- regexFind "[0-9]+$" $u.host -}}
{{- else if eq $u.scheme "http" -}}
80
{{- else -}}
443
{{- end -}}
{{- end -}}

{{/* Where the mail settings file is mounted in every pod that runs WordPress. */}}
{{- define "woocommerce.mailFile" -}}/usr/local/etc/storectl/mail.php{{- end -}}

{{/* One line on the store's mail: "off", or "smtp://host:port (tls, from ...)"; never a secret. */}}
{{- define "woocommerce.mailSummary" -}}
{{- with .Values.mail -}}
{{- if .enabled -}}
{{- printf "smtp://%s:%v %s from %s" .host .port .tls .from -}}
{{- else -}}
off
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The volume mount of the mail settings file, when mail is on. */}}
{{- define "woocommerce.mailMount" -}}
{{- if .Values.mail.enabled -}}
- name: mail
  mountPath: {{ include "woocommerce.mailFile" . }}
  subPath: mail.php
  readOnly: true
{{- end -}}
{{- end -}}

{{/* The volume holding the mail settings file, when mail is on. */}}
{{- define "woocommerce.mailVolume" -}}
{{- if .Values.mail.enabled -}}
- name: mail
  configMap:
    name: {{ include "woocommerce.fullname" . }}-wordpress
    items:
      - key: mail.php
        path: mail.php
{{- end -}}
{{- end -}}

{{/* WordPress's database account, as WordPress and db-ready.php read it. */}}
{{- define "woocommerce.databaseEnv" -}}
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
{{- end -}}

{{/*
WordPress's settings, shared by the WordPress container, the setup Job and the cron Job: the
database, wp-config additions and, when mail is on, the SMTP server. The SMTP password comes
from the Secret the values name and is never a value itself.
*/}}
{{- define "woocommerce.wordpressEnv" -}}
{{ include "woocommerce.databaseEnv" . }}
- name: WORDPRESS_CONFIG_EXTRA
  value: |
    define('FS_METHOD', 'direct');
    define('WP_MEMORY_LIMIT', '{{ .Values.wordpress.phpMemoryLimit }}');
    {{- if .Values.cron.enabled }}
    // Scheduled events run from the store's CronJob, not from visitors' requests.
    define('DISABLE_WP_CRON', true);
    {{- end }}
    {{- if .Values.mail.enabled }}
    require_once '{{ include "woocommerce.mailFile" . }}';
    {{- end }}
{{- with .Values.mail }}
{{- if .enabled }}
- name: STORE_SMTP_HOST
  value: {{ .host | quote }}
- name: STORE_SMTP_PORT
  value: {{ .port | quote }}
- name: STORE_SMTP_TLS
  value: {{ .tls | quote }}
- name: STORE_SMTP_FROM
  value: {{ .from | quote }}
- name: STORE_SMTP_FROM_NAME
  value: {{ default (default $.Values.store.name $.Values.store.title) .fromName | quote }}
- name: STORE_SMTP_USERNAME
  value: {{ .username | quote }}
{{- if .authSecret.name }}
- name: STORE_SMTP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .authSecret.name }}
      key: {{ .authSecret.key }}
      # A missing Secret must not keep the store from starting: mail then fails to
      # authenticate until the Secret exists and the pods restart.
      optional: true
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
