output "proxy_endpoint" {
  description = "RDS Proxy endpoint; every pg_address_* Spin variable points here."
  value       = aws_db_proxy.this.endpoint
}

output "proxy_name" {
  description = "Name of the RDS Proxy (CloudWatch dimension ProxyName)."
  value       = aws_db_proxy.this.name
}

output "instance_address" {
  description = "Address of the DB instance itself (migrations connect here, not through the proxy)."
  value       = aws_db_instance.this.address
}

output "instance_identifier" {
  description = "DB instance identifier (CloudWatch dimension DBInstanceIdentifier)."
  value       = aws_db_instance.this.identifier
}

output "database_name" {
  description = "Name of the application database."
  value       = aws_db_instance.this.db_name
}

output "port" {
  description = "Postgres port."
  value       = aws_db_instance.this.port
}

output "master_user_secret_arn" {
  description = "ARN of the RDS-managed secret holding the master credentials."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "db_security_group_id" {
  description = "Security group of the DB instance."
  value       = aws_security_group.db.id
}

output "proxy_security_group_id" {
  description = "Security group of RDS Proxy."
  value       = aws_security_group.proxy.id
}
