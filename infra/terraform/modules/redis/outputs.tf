output "replication_group_id" {
  description = "ID of the replication group."
  value       = aws_elasticache_replication_group.this.id
}

output "primary_endpoint_address" {
  description = "Primary endpoint host name; it follows failover. The fleet builds redis_address from it."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "port" {
  description = "Redis port."
  value       = var.port
}

output "member_cluster_ids" {
  description = "Cache cluster (node) IDs, predictable as <replication group>-00N, for per-node alarms."
  value       = [for i in range(var.num_cache_clusters) : format("%s-%03d", var.name, i + 1)]
}

output "security_group_id" {
  description = "Security group of the cache nodes."
  value       = aws_security_group.this.id
}
