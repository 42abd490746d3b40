import Faultline
import Scenarios

/// The runner, assertion, report and parameter tests use kill-primary as their sample scenario and
/// assert its exact steps and fixtures. They keep the shape without its alert expectations; the real
/// scenario, alert steps included, is run in `AlertConditionTests.killPrimaryExpectsPrimaryDownToFireAndResolve`.
/// (A declaration of this module shadows the `killPrimary` imported from Scenarios.)
let killPrimary: Scenario = Scenarios.killPrimary.withoutAlertSteps
