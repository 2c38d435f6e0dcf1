"""Loyalty campaigns: select, launch with a random control group, mail, and measure.

* **Selection** (from the accounts the user may see, not archived): by RFM segment
  (``value.AccountMetrics.segment``), by tier (``TierStatus``), by value (customer value
  this year, CLV or 12-month revenue between two amounts) or one account.
* **Launch** fixes the selection: ``core.campaign_stats.split_control_group`` holds back
  the control share at random, seeded with the campaign id (the same campaign always
  splits the same way), and the members are stored. Campaign mails go through the
  outbox, only to contacts of targeted accounts whose consent allows "campaigns"; the
  control group gets nothing.
* **Effect** (``core.campaign_stats``): over the campaign period (to today while it
  runs), revenue and orders per account of the target group against the control group,
  every member counted (zero when it did not order): the difference with a Welch 95 %
  interval, the lift in percent, and the extra profit = difference × targeted accounts ×
  margin − cost, for the estimate and both ends of the interval. The margin is the mean
  of the targeted accounts' margins (the default margin where an account has none).
* **One account** (the lesson's campaign for de Bijenkorf): no control group; revenue
  per 30 days (shorter campaigns: per campaign length) during the campaign against as
  many periods of that length before it (at least three), flagged as weaker evidence;
  the extra revenue is the difference per period times the periods measured.
* **Cost** = the fixed costs plus the incentive: a bonus discount costs its rate of the
  targeted accounts' revenue in the period; a points multiplier the extra points times
  the point value; a savings gift its value per targeted account that ordered.
"""
