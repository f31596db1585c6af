-- Two more business counters (see 20261201000003_business_counters.sql), added in their own
-- migration because a new enum value cannot be used in the transaction that adds it:
--   work_parked          a reconciliation row (an owed refund, a payment whose outcome is
--                        unknown) that failed in a way no retry mends, set aside for an
--                        operator so the rows behind it proceed (20261207000005_money_safety.sql)
--   refunds_by_provider  a refund made at the provider itself (its console, a chargeback) that
--                        we learned of by webhook and recorded as a cancellation
ALTER TYPE business_counter ADD VALUE IF NOT EXISTS 'work_parked';
ALTER TYPE business_counter ADD VALUE IF NOT EXISTS 'refunds_by_provider';
