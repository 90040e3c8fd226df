import XCTest
final class PlaceholderPlannerTests: XCTestCase { func testNothing() {} }
