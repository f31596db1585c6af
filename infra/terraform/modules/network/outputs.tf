output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR of the VPC (security groups use it for egress to the data tier)."
  value       = aws_vpc.this.cidr_block
}

output "azs" {
  description = "Availability zones the subnets are spread over."
  value       = local.azs
}

output "public_subnet_ids" {
  description = "Public subnets (ALB, NAT gateways)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private app subnets (Spin fleet, migration task)."
  value       = aws_subnet.private[*].id
}

output "data_subnet_ids" {
  description = "Private data subnets without internet route (ElastiCache, RDS, RDS Proxy)."
  value       = aws_subnet.data[*].id
}

output "nat_public_ips" {
  description = "Public IPs of the NAT gateways (give these to the payment provider if it allow-lists callers)."
  value       = aws_eip.nat[*].public_ip
}
