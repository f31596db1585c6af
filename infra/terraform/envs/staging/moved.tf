# State addresses from before the environments called modules/stack: each module used to be called
# here directly. These blocks let the next plan move existing objects instead of replacing them;
# keep them until every state of this environment has been applied with them.

moved {
  from = module.secrets
  to   = module.stack.module.secrets
}

moved {
  from = module.network
  to   = module.stack.module.network
}

moved {
  from = module.alb
  to   = module.stack.module.alb
}

moved {
  from = module.waf
  to   = module.stack.module.waf
}

moved {
  from = module.cloudfront
  to   = module.stack.module.cloudfront
}

moved {
  from = module.redis
  to   = module.stack.module.redis
}

moved {
  from = module.postgres
  to   = module.stack.module.postgres
}

moved {
  from = module.spin_fleet
  to   = module.stack.module.spin_fleet
}

moved {
  from = module.migrations
  to   = module.stack.module.migrations
}

moved {
  from = module.monitoring
  to   = module.stack.module.monitoring
}
