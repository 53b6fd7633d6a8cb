{{/* Sharding (README, Sharding): operator.sharding.shards > 1 runs that many operator replicas as a StatefulSet,
each reconciling its share of the objects, coordinated through Leases in the release namespace. */}}

{{- define "daytwo.shards" -}}
{{- int .Values.operator.sharding.shards -}}
{{- end -}}

{{/* The Leases are <prefix>-0 ... <prefix>-(shards-1); one prefix per release, so two releases never share them. */}}
{{- define "daytwo.shardLeasePrefix" -}}
{{- printf "%s-shard" (include "daytwo.fullname" .) | trunc 50 | trimSuffix "-" -}}
{{- end -}}
