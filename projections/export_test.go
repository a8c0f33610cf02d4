package projections

// EachDeliveryCounted is EachDelivery with a hook called for every index
// entry read, for tests of what a walk costs.
var EachDeliveryCounted = eachDelivery
