import ArgumentParser
import Foundation
import Planner
import TopologyDSL
import TopologyModel

NSTopo.main()
