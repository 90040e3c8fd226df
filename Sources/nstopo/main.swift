import ArgumentParser
import Foundation
import Planner
import TopologyDSL
import TopologyModel

import Netlink

// A thousand namespaces need more descriptors than the usual soft limit of 1,024.
Descriptors.raiseSoftLimit()
NSTopo.main()
